using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace InitPrune.Experiments.Sweeps;

/// <summary>How a spec field's scalars are read.</summary>
internal enum FieldKind { Text, Integer, Number, Flag, Numbers }

/// <summary>One leaf of a spec section: <c>train.lr</c> is section <c>train</c>, key <c>lr</c>.</summary>
internal sealed record SpecField(string Section, string Key, FieldKind Kind, bool Nullable, object? Default)
{
    public string Path => $"{Section}.{Key}";
}

/// <summary>
/// The spec's fields: the snake_case properties of the <see cref="RunConfig"/> section records in declaration
/// order, with the records' defaults, plus <c>data.fallback</c>. Values are stored as the records' own types.
/// </summary>
internal static class SpecSchema
{
    public const string Fallback = "fallback";

    static readonly (string Section, Type Record)[] Records =
    [
        ("data", typeof(DataSettings)), ("model", typeof(ModelSettings)), ("init", typeof(InitSettings)),
        ("prune", typeof(PruneSettings)), ("train", typeof(TrainSettings)),
    ];

    public static IReadOnlyList<string> Sections { get; } = [.. Records.Select(r => r.Section)];

    /// <summary>Every field in declaration order (sections, then their properties; <c>data.fallback</c> after <c>data.name</c>).</summary>
    public static IReadOnlyList<SpecField> Fields { get; } = [.. Records.SelectMany(r => FieldsOf(r.Section, r.Record))];

    public static IReadOnlyList<SpecField> InSection(string section) => [.. Fields.Where(f => f.Section == section)];

    public static SpecField? Find(string section, string key) => Fields.FirstOrDefault(f => f.Section == section && f.Key == key);

    /// <summary>Builds the section record <typeparamref name="T"/> from values keyed by field key (absent keys keep the record default).</summary>
    public static T Build<T>(IReadOnlyDictionary<string, object?> values)
    {
        var ctor = PrimaryConstructor(typeof(T));
        var args = ctor.GetParameters().Select(p => values.TryGetValue(Snake(p.Name!), out var v) ? v : p.DefaultValue).ToArray();
        return (T)ctor.Invoke(args);
    }

    /// <summary>A value as a coordinate: invariant round-trip numbers, lower-case booleans, <c>null</c>, lists as <c>[a, b]</c>.</summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        double[] a => $"[{string.Join(", ", a.Select(x => Format(x)))}]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    static IEnumerable<SpecField> FieldsOf(string section, Type record)
    {
        foreach (var p in PrimaryConstructor(record).GetParameters())
        {
            var type = Nullable.GetUnderlyingType(p.ParameterType) ?? p.ParameterType;
            var kind = type == typeof(string) ? FieldKind.Text
                : type == typeof(int) ? FieldKind.Integer
                : type == typeof(double) ? FieldKind.Number
                : type == typeof(bool) ? FieldKind.Flag
                : type == typeof(double[]) ? FieldKind.Numbers
                : throw new InvalidOperationException($"{record.Name}.{p.Name} has type {p.ParameterType.Name}, which specs cannot hold");
            bool nullable = Nullable.GetUnderlyingType(p.ParameterType) is not null || IsNullableReference(p);
            yield return new SpecField(section, Snake(p.Name!), kind, nullable, p.DefaultValue);
            if (section == "data" && p.Name == nameof(DataSettings.Name))
                yield return new SpecField(section, Fallback, FieldKind.Text, true, null);
        }
    }

    static bool IsNullableReference(ParameterInfo p) =>
        !p.ParameterType.IsValueType && new NullabilityInfoContext().Create(p).WriteState == NullabilityState.Nullable;

    static ConstructorInfo PrimaryConstructor(Type record) =>
        record.GetConstructors().Where(c => c.GetParameters() is not [{ } only] || only.ParameterType != record)
            .MaxBy(c => c.GetParameters().Length)!;

    static string Snake(string name) => JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
}
