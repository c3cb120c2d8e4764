using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;

namespace InitPrune.Reporting;

/// <summary>
/// A figure read from a finished run: <c>test_accuracy</c>, <c>validation_accuracy</c> (in percent), <c>test_loss</c>, or
/// <c>jacobian_norm</c>, ‖J‖ recorded at step 0 (the network as initialized and pruned; runs with train.jacobian_every &gt; 0),
/// or <c>jacobian_change</c>, the last recorded ‖J‖ over the one at step 0 (1: flat, seed 002's stagnation phase).
/// or <c>jacobian_ratio</c>, that ‖J‖ over the one of the run's dense reference (<see cref="JacobianRatio"/>; seed 002 §5).
/// </summary>
internal sealed record ReportMetric(string Name, string Title, bool IsPercent)
{
    public const string JacobianNorm = "jacobian_norm";
    public const string JacobianChange = "jacobian_change";

    public const string JacobianRatio = "jacobian_ratio";

    public static readonly string[] Known = ["test_accuracy", "validation_accuracy", "test_loss", JacobianNorm, JacobianChange, JacobianRatio];

    /// <summary>Step-0 ‖J‖ of the dense runs <see cref="JacobianRatio"/> divides by (set by <see cref="WithRuns"/>).</summary>
    IReadOnlyDictionary<string, double> DenseNorms { get; init; } = new Dictionary<string, double>();

    /// <summary>This metric reading its dense references (for <c>jacobian_ratio</c>) from <paramref name="runs"/>.</summary>
    public ReportMetric WithRuns(IEnumerable<StoredRun> runs) => Name == JacobianRatio ? this with { DenseNorms = Reporting.JacobianRatio.DenseNorms(runs) } : this;

    public static ReportMetric Parse(string name) => name switch
    {
        "test_accuracy" => new(name, "Test accuracy (%)", true),
        "validation_accuracy" => new(name, "Validation accuracy (%)", true),
        "test_loss" => new(name, "Test loss", false),
        JacobianNorm => new(name, "Jacobian norm at init", false),
        JacobianChange => new(name, "‖J‖ last / ‖J‖ at init", false),
        JacobianRatio => new(name, "‖J_pruned‖ / ‖J_dense‖ at init", false),
        _ => throw new InitPruneException($"the report metric '{name}' is unknown: use one of {string.Join(", ", Known)}"),
    };

    public string NumberFormat => IsPercent ? "F2" : Name is JacobianNorm or JacobianChange or JacobianRatio ? "G4" : "F4";

    /// <summary>The run's figure, or null when the run has none (e.g. no validation split).</summary>
    public double? Of(StoredRun run)
    {
        if (run.Result is not { } r) return null;
        double? raw = Name switch
        {
            JacobianNorm => run.JacobianSeries.FirstOrDefault(p => p.Step == 0)?.Norm,
            JacobianChange => run.JacobianSeries.FirstOrDefault(p => p.Step == 0) is { Norm: > 0 } first && run.JacobianSeries.MaxBy(p => p.Step) is { Step: > 0 } last
                ? last.Norm / first.Norm : null,
            JacobianRatio => Reporting.JacobianRatio.Of(run, DenseNorms),
            "test_accuracy" => r.TestAccuracy,
            "validation_accuracy" => r.ValidationAccuracy ?? run.Epochs.MaxBy(e => e.Epoch)?.ValidationAccuracy,
            _ => r.TestLoss,
        };
        return raw is { } v && IsPercent ? 100 * v : raw;
    }
}
