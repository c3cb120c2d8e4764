using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace InitPrune.Engine;

/// <summary>How an option's values are typed, in a spec and on the command line.</summary>
public enum ParamKind { Text, Integer, Number, Flag, Numbers }

/// <summary>
/// Declares an option on a settings record's constructor parameter: its help, its range or choices and its source.
/// The parameter itself gives the name (snake_case), the type and the default; everything else derives from the two.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class OptAttribute(string help) : Attribute
{
    public string Help => help;

    /// <summary>Where the option comes from, e.g. "seed 001 Eq. 9".</summary>
    public string? Cite { get; init; }

    public double Min { get; init; } = double.NegativeInfinity;
    public bool MinOpen { get; init; }
    public double Max { get; init; } = double.PositiveInfinity;
    public bool MaxOpen { get; init; }

    /// <summary>The allowed values of a text option (canonical spelling); empty when a registry checks the name.</summary>
    public string[] Choices { get; init; } = [];

    /// <summary>Other spellings accepted everywhere, as <c>alias=canonical</c>.</summary>
    public string[] Aliases { get; init; } = [];

    /// <summary>A registry whose static <see cref="NamesMember"/> lists the allowed names and whose optional static
    /// <c>Resolve(string) → string?</c> gives the canonical name of any accepted spelling (null when unknown).</summary>
    public Type? NamesFrom { get; init; }

    public string NamesMember { get; init; } = "Names";

    /// <summary>The command-line name when it is not <c>--key-with-dashes</c> (e.g. <c>--model</c> for <c>model.name</c>).</summary>
    public string? Cli { get; init; }

    /// <summary>
    /// The names of its section (model, initialization, ...) the option applies to, space-separated, <c>*</c> a
    /// wildcard (e.g. <c>"mlp vcnn"</c>); elsewhere it is irrelevant: normalized away, refused when typed.
    /// </summary>
    public string? For { get; init; }

    /// <summary>
    /// The results-store schema that introduced the option (1: the first). An option added later (3 or more) is
    /// written to a run's canonical JSON only when it differs from its default, so adding one changes no stored id.
    /// </summary>
    public int Since { get; init; } = 1;

    /// <summary>A flag whose default is true appears on the command line as its negation (<c>--no-bias</c>).</summary>
    public bool Negated { get; init; }
}

/// <summary>
/// One option, declared once: key, type, default, range or choices, help and citation. The command line, the spec
/// schema and its errors, validation, normalization, the run hash and the generated docs all read it from here.
/// </summary>
public sealed record Param(
    string Key,
    ParamKind Kind,
    object? Default,
    string Help,
    string? Cite = null,
    bool Nullable = false,
    double Min = double.NegativeInfinity,
    bool MinOpen = false,
    double Max = double.PositiveInfinity,
    bool MaxOpen = false,
    IReadOnlyList<string>? Choices = null,
    IReadOnlyDictionary<string, string>? Aliases = null,
    string? Cli = null,
    bool Negated = false,
    Func<string, string?>? Resolve = null,
    string? Registry = null,
    string? For = null,
    int Since = 1)
{
    /// <summary>False for an option added after the first store schema while it has its default: it then stays out of run ids.</summary>
    public bool InId(object? value) => Since <= 1 || !SameValue(value, Default);

    static bool SameValue(object? a, object? b) =>
        a is double[] x && b is double[] y ? x.SequenceEqual(y) : Equals(a, b);

    /// <summary>True when the option matters for a section named <paramref name="name"/> (see <see cref="OptAttribute.For"/>).</summary>
    public bool AppliesTo(string name) =>
        For is null || For.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(pattern =>
            pattern.EndsWith('*') ? name.StartsWith(pattern[..^1], StringComparison.Ordinal) : name == pattern);

    /// <summary>The value an irrelevant option is normalized to: null when it may be null, else its default.</summary>
    public object? Irrelevant => Nullable ? null : Default;

    /// <summary>The command-line option: <see cref="Cli"/>, else <c>--</c> and the key with dashes.</summary>
    public string Flag => Cli ?? "--" + (Negated ? "no-" : "") + Key.Replace('_', '-');

    public static Param Number(string key, double @default, string help, string? cite = null, double min = double.NegativeInfinity,
        bool minOpen = false, double max = double.PositiveInfinity, bool maxOpen = false) =>
        new(key, ParamKind.Number, @default, help, cite, Min: min, MinOpen: minOpen, Max: max, MaxOpen: maxOpen);

    public static Param Integer(string key, int @default, string help, string? cite = null, int min = int.MinValue, int max = int.MaxValue) =>
        new(key, ParamKind.Integer, @default, help, cite, Min: min == int.MinValue ? double.NegativeInfinity : min, Max: max == int.MaxValue ? double.PositiveInfinity : max);

    /// <summary>The range as text (<c>(0, 1]</c>, <c>≥ 1</c>, <c>one of a, b</c>), or empty when any value goes.</summary>
    public string Range
    {
        get
        {
            if (Choices is { Count: > 0 } c) return $"one of {string.Join(", ", c)}";
            bool low = !double.IsNegativeInfinity(Min), high = !double.IsPositiveInfinity(Max);
            if (Kind == ParamKind.Integer && low && !high) return $"≥ {F(Min)}";
            if (low && high) return $"{(MinOpen ? "(" : "[")}{F(Min)}, {F(Max)}{(MaxOpen ? ")" : "]")}";
            if (low) return MinOpen ? $"> {F(Min)}" : $"≥ {F(Min)}";
            if (high) return MaxOpen ? $"< {F(Max)}" : $"≤ {F(Max)}";
            return "";
        }
    }

    /// <summary>The canonical spelling of a text value (lower case, aliases resolved); other values unchanged.</summary>
    public object? Canonical(object? value)
    {
        if (value is not string s) return value;
        s = s.Trim().ToLowerInvariant();
        if (Aliases is not null && Aliases.TryGetValue(s, out var alias)) return alias;
        return Resolve?.Invoke(s) ?? Choices?.FirstOrDefault(c => c.Equals(s, StringComparison.OrdinalIgnoreCase)) ?? s;
    }

    /// <summary>Why <paramref name="value"/> (canonical) is not allowed, as "use ..." advice; null when it is.</summary>
    public string? Problem(object? value) => value switch
    {
        null => Nullable ? null : "give a value",
        string s when Choices is { Count: > 0 } c => c.Contains(s) || Resolve?.Invoke(s) == s ? null : $"use one of {string.Join(", ", c)}",
        int i => InRange(i) ? null : Advice,
        double d => double.IsFinite(d) && InRange(d) ? null : Advice,
        double[] a => a.All(x => double.IsFinite(x) && InRange(x)) ? null : Advice,
        _ => null,
    };

    string Advice =>
        Range.Length == 0 ? "use a finite number"
        : Range[0] is '(' or '[' ? $"use a value in {Range}"
        : Kind == ParamKind.Integer && !MinOpen && double.IsPositiveInfinity(Max) ? $"use at least {F(Min)}"
        : $"use a finite value {Range}";

    bool InRange(double x) =>
        (MinOpen ? x > Min : x >= Min) && (MaxOpen ? x < Max : x <= Max);

    static string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The options a settings record declares: its primary constructor's parameters, in order.</summary>
    public static IReadOnlyList<Param> Of(Type record) =>
        [.. PrimaryConstructor(record).GetParameters().Where(p => KindOf(p.ParameterType) is not null).Select(p => FromParameter(record, p))];

    /// <summary>Builds <paramref name="record"/> from values keyed by option key (absent keys keep the declared default).</summary>
    public static object Build(Type record, IReadOnlyDictionary<string, object?> values, Func<ParameterInfo, object?>? other = null)
    {
        var ctor = PrimaryConstructor(record);
        var args = ctor.GetParameters().Select(p => KindOf(p.ParameterType) is null && other is not null ? other(p)
            : values.TryGetValue(Snake(p.Name!), out var v) ? v : p.DefaultValue).ToArray();
        return ctor.Invoke(args);
    }

    /// <summary>The values of a record's declared options, keyed by option key.</summary>
    public static Dictionary<string, object?> ValuesOf(object record) =>
        PrimaryConstructor(record.GetType()).GetParameters().Where(p => KindOf(p.ParameterType) is not null)
            .ToDictionary(p => Snake(p.Name!), p => record.GetType().GetProperty(p.Name!)!.GetValue(record));

    public static string Snake(string name) => JsonNamingPolicy.SnakeCaseLower.ConvertName(name);

    static Param FromParameter(Type record, ParameterInfo p)
    {
        var opt = p.GetCustomAttribute<OptAttribute>() ?? throw new InvalidOperationException($"{record.Name}.{p.Name} has no [Opt] declaration");
        bool nullable = System.Nullable.GetUnderlyingType(p.ParameterType) is not null
            || (!p.ParameterType.IsValueType && new NullabilityInfoContext().Create(p).WriteState == NullabilityState.Nullable);
        IReadOnlyList<string>? choices = opt.Choices.Length > 0 ? opt.Choices : null;
        Func<string, string?>? resolve = null;
        if (opt.NamesFrom is { } registry)
        {
            const BindingFlags Static = BindingFlags.Public | BindingFlags.Static;
            var names = registry.GetProperty(opt.NamesMember, Static)?.GetValue(null) ?? registry.GetField(opt.NamesMember, Static)?.GetValue(null)
                ?? throw new InvalidOperationException($"{registry.Name} has no static {opt.NamesMember}");
            choices = [.. (IEnumerable<string>)names];
            if (registry.GetMethod("Resolve", Static, [typeof(string)]) is { } method)
                resolve = s => (string?)method.Invoke(null, [s]);
        }
        return new Param(Snake(p.Name!), KindOf(p.ParameterType)!.Value, p.DefaultValue, opt.Help, opt.Cite, nullable,
            opt.Min, opt.MinOpen, opt.Max, opt.MaxOpen, choices,
            opt.Aliases.Length > 0 ? opt.Aliases.Select(a => a.Split('=')).ToDictionary(a => a[0], a => a[1]) : null, opt.Cli, opt.Negated, resolve, opt.NamesFrom?.Name, opt.For, opt.Since);
    }

    static ParamKind? KindOf(Type type)
    {
        type = System.Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(string) ? ParamKind.Text
            : type == typeof(int) ? ParamKind.Integer
            : type == typeof(double) ? ParamKind.Number
            : type == typeof(bool) ? ParamKind.Flag
            : type == typeof(double[]) ? ParamKind.Numbers
            : null;
    }

    static ConstructorInfo PrimaryConstructor(Type record) =>
        record.GetConstructors().Where(c => c.GetParameters() is not [{ } only] || only.ParameterType != record)
            .MaxBy(c => c.GetParameters().Length)!;
}
