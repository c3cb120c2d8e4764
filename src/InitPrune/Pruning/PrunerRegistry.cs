using InitPrune.Engine;

namespace InitPrune.Pruning;

/// <summary>
/// A pruning method, declared once: the name users type, a one-line summary with its source, its options, and how to
/// build it from their values (null for a method that trains, such as IMP, which <see cref="Pruner"/> does not run).
/// <see cref="Check"/>, when set, refuses spec settings the method cannot take (one-line error).
/// </summary>
public sealed record MethodInfo(string Name, string Summary, IReadOnlyList<Param> Options, Func<MethodOptions, IScorer>? Create, bool IgnoresSparsity = false,
    Action<PruneSpec>? Check = null)
{
    public bool Trains => Create is null;
}

/// <summary>Pruning methods by the names users type. A new method is one class with a <see cref="MethodInfo"/> and one line here.</summary>
public static class PrunerRegistry
{
    public static IReadOnlyList<MethodInfo> Methods { get; } =
    [
        RandomScorer.Info,
        MagnitudeScorer.Info,
        SnipScorer.Info,
        GraspScorer.Info,
        SynFlowScorer.Info,
        StableResNetScorer.SbpSr,
        StableResNetScorer.GraspSr,
        WlthMethod.Info,
        Seed003Method.Random,
        Seed003Method.Magnitude,
        LnStructuredMethod.Info,
        IterativeMagnitudePruning.Info,
    ];

    public static IReadOnlyCollection<string> Names { get; } = [.. Methods.Select(m => m.Name)];

    /// <summary>Every method option once, in registration order (methods share an option by sharing its <see cref="Param"/>).</summary>
    public static IReadOnlyList<Param> AllOptions { get; } = [.. Methods.SelectMany(m => m.Options).Distinct()];

    /// <summary>The methods that declare <paramref name="option"/>.</summary>
    public static IEnumerable<MethodInfo> Declaring(Param option) => Methods.Where(m => m.Options.Contains(option));

    public static MethodInfo Get(string name) =>
        Methods.FirstOrDefault(m => m.Name == name.Trim().ToLowerInvariant())
        ?? throw new InitPruneException($"unknown pruning method '{name}': use one of {string.Join(", ", Names)}");

    /// <summary>The scorer of a one-shot method, its options checked against the declaration.</summary>
    public static IScorer Create(string name, MethodOptions? options = null)
    {
        var method = Get(name);
        options ??= MethodOptions.Default;
        options.Validate(method);
        return method.Create?.Invoke(options)
            ?? throw new InitPruneException($"method '{method.Name}' trains between pruning rounds: run it with 'initprune prune --method {method.Name}' or PruneJob.Run, not Pruner.Prune");
    }
}
