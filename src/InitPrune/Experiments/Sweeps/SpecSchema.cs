using System.Globalization;
using InitPrune.Engine;
using InitPrune.Pruning;

namespace InitPrune.Experiments.Sweeps;

/// <summary>One leaf of a spec section: <c>train.lr</c> is section <c>train</c>, option <c>lr</c>.</summary>
internal sealed record SpecField(string Section, Param Param)
{
    public string Key => Param.Key;
    public ParamKind Kind => Param.Kind;
    public bool Nullable => Param.Nullable;
    public object? Default => Param.Default;
    public string Path => $"{Section}.{Key}";
}

/// <summary>
/// The spec's fields, derived from the declarations: the options of the <see cref="RunConfig"/> section records in
/// declaration order, every pruning method's options (<see cref="PrunerRegistry.AllOptions"/>) in section
/// <c>prune</c>, and <c>data.fallback</c>. Values are stored as the declared types.
/// </summary>
internal static class SpecSchema
{
    public const string Fallback = "fallback";

    static readonly Param FallbackParam = new(Fallback, ParamKind.Text, null,
        "Dataset to use, with a note in the report, when data.name's files are not installed", Nullable: true);

    static readonly (string Section, Type Record)[] Records =
    [
        ("data", typeof(DataSettings)), ("model", typeof(ModelSettings)), ("init", typeof(InitSettings)),
        ("prune", typeof(PruneSettings)), ("train", typeof(TrainSettings)),
    ];

    public static IReadOnlyList<string> Sections { get; } = [.. Records.Select(r => r.Section)];

    /// <summary>Every field in declaration order (sections, then their options; <c>data.fallback</c> after <c>data.name</c>).</summary>
    public static IReadOnlyList<SpecField> Fields { get; } = [.. Records.SelectMany(r => FieldsOf(r.Section, r.Record))];

    public static IReadOnlyList<SpecField> InSection(string section) => [.. Fields.Where(f => f.Section == section)];

    public static SpecField? Find(string section, string key) => Fields.FirstOrDefault(f => f.Section == section && f.Key == key);

    /// <summary>Builds the section record <typeparamref name="T"/> from values keyed by option key (absent keys keep the declared default).</summary>
    public static T Build<T>(IReadOnlyDictionary<string, object?> values) =>
        (T)Param.Build(typeof(T), values, p => p.ParameterType == typeof(MethodOptions)
            ? new MethodOptions(PrunerRegistry.AllOptions.Where(o => values.TryGetValue(o.Key, out var v) && v is not null)
                .Select(o => new KeyValuePair<string, object>(o.Key, values[o.Key]!)))
            : null);

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
        foreach (var p in Param.Of(record))
        {
            yield return new SpecField(section, p);
            if (section == "data" && p.Key == "name") yield return new SpecField(section, FallbackParam);
        }
        // An option whose default depends on the method (iterations) defaults to null here: not given, so each method takes its own.
        if (record == typeof(PruneSettings))
            foreach (var p in PrunerRegistry.AllOptions)
                yield return new SpecField(section, PrunerRegistry.DefaultsByMethod(p.Key) is null ? p : p with { Default = null, Nullable = true });
    }
}
