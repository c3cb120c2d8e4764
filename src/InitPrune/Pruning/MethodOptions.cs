using InitPrune.Engine;
using InitPrune.Init;

namespace InitPrune.Pruning;

/// <summary>
/// The values of a method's declared options (<see cref="MethodInfo.Options"/>), keyed by option key; an option not
/// given has its declared default. <see cref="Init"/> is the initialization, for methods that read it (wlth).
/// Equal when the same options have the same values.
/// </summary>
public sealed class MethodOptions : IEquatable<MethodOptions>
{
    readonly SortedDictionary<string, object> values;

    public MethodOptions(IEnumerable<KeyValuePair<string, object>>? values = null, InitSpec? init = null)
    {
        this.values = new(values?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [], StringComparer.Ordinal);
        Init = init;
    }

    public static readonly MethodOptions Default = new();

    /// <summary>The options given explicitly, by key.</summary>
    public IReadOnlyDictionary<string, object> Values => values;

    public InitSpec? Init { get; }

    /// <summary>The value of <paramref name="p"/>: given, or its default.</summary>
    public object Get(Param p) => values.TryGetValue(p.Key, out var v) ? v : p.Default!;

    public double Number(Param p) => Convert.ToDouble(Get(p), System.Globalization.CultureInfo.InvariantCulture);

    public int Integer(Param p) => (int)Get(p);

    public MethodOptions With(Param p, object value) => new(values.Append(new(p.Key, value)).GroupBy(kv => kv.Key).Select(g => g.Last()), Init);

    public MethodOptions WithInit(InitSpec? init) => new(values, init);

    /// <summary>Only the options <paramref name="method"/> declares (the others change nothing it computes).</summary>
    public MethodOptions For(MethodInfo method) => new(values.Where(kv => method.Options.Any(p => p.Key == kv.Key)), Init);

    /// <summary>Every option <paramref name="method"/> declares, with its value (given or default): the form two equal runs share.</summary>
    public MethodOptions Complete(MethodInfo method) => new(method.Options.Select(p => new KeyValuePair<string, object>(p.Key, Get(p))), Init);

    /// <summary>Refuses an option <paramref name="method"/> does not have and a value outside its declared range.</summary>
    public void Validate(MethodInfo method)
    {
        foreach (var (key, value) in values)
        {
            var p = method.Options.FirstOrDefault(o => o.Key == key)
                ?? throw new InitPruneException($"{key} is not an option of method '{method.Name}' ({(method.Options.Count == 0 ? "it has none" : $"its options: {string.Join(", ", method.Options.Select(o => o.Key))}")})");
            if (p.Problem(value) is { } advice)
                throw new InitPruneException($"{key} {Format(value)} is impossible for {method.Name}: {advice}");
        }
    }

    static string Format(object value) => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";

    public bool Equals(MethodOptions? other) =>
        other is not null && Equals(Init, other.Init) && values.Count == other.values.Count
        && values.All(kv => other.values.TryGetValue(kv.Key, out var v) && Equals(kv.Value, v));

    public override bool Equals(object? obj) => Equals(obj as MethodOptions);

    public override int GetHashCode() => values.Aggregate(Init?.GetHashCode() ?? 0, (h, kv) => HashCode.Combine(h, kv.Key, kv.Value));

    public override string ToString() => string.Join(", ", values.Select(kv => $"{kv.Key}={Format(kv.Value)}"));
}
