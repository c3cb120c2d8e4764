using InitPrune.Engine;

namespace InitPrune.Pruning;

/// <summary>
/// A pruning method, declared once: the name users type, a one-line summary with its source, its options, and how to
/// build it from their values (null for a method that trains, such as IMP, which <see cref="Pruner"/> does not run).
/// <see cref="Check"/>, when set, refuses spec settings the method cannot take (one-line error); <see cref="NoBatchNorm"/>,
/// when set, says why the method cannot score BatchNorm scales (prune_batchnorm is refused).
/// </summary>
public sealed record MethodInfo(string Name, string Summary, IReadOnlyList<Param> Options, Func<MethodOptions, IScorer>? Create, bool IgnoresSparsity = false,
    Action<PruneSpec>? Check = null, string? NoBatchNorm = null)
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
        Tickets.EdgePopupMethod.Plain,
        Tickets.EdgePopupMethod.Scaled,
    ];

    public static IReadOnlyCollection<string> Names { get; } = [.. Methods.Select(m => m.Name)];

    /// <summary>
    /// Every method option once by key, in registration order. Methods share an option by sharing its <see cref="Param"/>,
    /// or a copy that differs only in default and help (iterations: SynFlow's 100, multi-shot SNIP/GraSP's 1); the
    /// first declaration of a key stands for it on the command line and in the spec schema.
    /// </summary>
    public static IReadOnlyList<Param> AllOptions { get; } = [.. Methods.SelectMany(m => m.Options).DistinctBy(p => p.Key)];

    /// <summary>The methods that declare an option with <paramref name="option"/>'s key.</summary>
    public static IEnumerable<MethodInfo> Declaring(Param option) => Methods.Where(m => m.Options.Any(p => p.Key == option.Key));

    /// <summary>The defaults of the option with <paramref name="key"/>, by method, when methods declare different ones (else null).</summary>
    public static string? DefaultsByMethod(string key)
    {
        var byMethod = Methods.SelectMany(m => m.Options.Where(p => p.Key == key).Select(p => (m.Name, p.Default))).ToList();
        if (byMethod.Select(d => d.Default).Distinct().Count() < 2) return null;
        return string.Join("; ", byMethod.GroupBy(d => d.Default).Select(g =>
            $"{Convert.ToString(g.Key, System.Globalization.CultureInfo.InvariantCulture)} for {string.Join(", ", g.Select(d => d.Name))}"));
    }

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
