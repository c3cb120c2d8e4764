using InitPrune.Engine;

namespace InitPrune.Pruning;

/// <summary>Pruning methods by the names users type.</summary>
public static class PrunerRegistry
{
    static readonly Dictionary<string, Func<IScorer>> Registry = new()
    {
        ["random"] = () => new RandomScorer(),
        ["magnitude"] = () => new MagnitudeScorer(),
        ["snip"] = () => new SnipScorer(),
    };

    public static IReadOnlyCollection<string> Names => Registry.Keys;

    public static IScorer Create(string name) =>
        Registry.TryGetValue(name.ToLowerInvariant(), out var make)
            ? make()
            : throw new InitPruneException($"unknown pruning method '{name}': use one of {string.Join(", ", Registry.Keys)}");
}
