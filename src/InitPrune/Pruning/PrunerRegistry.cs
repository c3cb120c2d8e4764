using InitPrune.Engine;

namespace InitPrune.Pruning;

/// <summary>Pruning methods by the names users type.</summary>
public static class PrunerRegistry
{
    static readonly Dictionary<string, Func<MethodOptions, IScorer>> Registry = new()
    {
        ["random"] = _ => new RandomScorer(),
        ["magnitude"] = _ => new MagnitudeScorer(),
        ["snip"] = _ => new SnipScorer(),
        ["grasp"] = o => new GraspScorer(o.Temperature),
        ["synflow"] = o => new SynFlowScorer(o.Iterations),
        ["sbp-sr"] = _ => new StableResNetScorer("sbp-sr", new SnipScorer()),
        ["grasp-sr"] = o => new StableResNetScorer("grasp-sr", new GraspScorer(o.Temperature)),
        ["wlth"] = o => new WlthMethod(o),
        ["seed003-random"] = o => new Seed003Method(magnitude: false, o.Alpha),
        ["seed003-magnitude"] = o => new Seed003Method(magnitude: true, o.Alpha),
    };

    public static IReadOnlyCollection<string> Names => Registry.Keys;

    public static IScorer Create(string name, MethodOptions? options = null) =>
        Registry.TryGetValue(name.ToLowerInvariant(), out var make)
            ? make(options ?? MethodOptions.Default)
            : throw new InitPruneException($"unknown pruning method '{name}': use one of {string.Join(", ", Registry.Keys)}");
}
