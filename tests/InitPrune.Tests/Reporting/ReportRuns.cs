using InitPrune.Experiments.Sweeps;
using InitPrune.Pruning;
using InitPrune.Training;

namespace InitPrune.Tests.Reporting;

/// <summary>Synthetic stored runs for report tests: hand-chosen accuracies, coordinates and pruning records.</summary>
internal static class ReportRuns
{
    public const string Key = "demo@small";

    public static readonly EnvironmentInfo Env = new("0.1.0", "abc1234", "0.107.0", "2.10.0", 2, "cpu", "host", "Linux", "10.0.0");

    public static SweepInfo Sweep(ReportLayout? layout = null) =>
        new(Key, "A demo sweep.", "seed 001 Table 1", layout ?? new ReportLayout(), ["ran on ellipse: mnist was not found"], "name: demo");

    /// <summary>A run listed under <paramref name="label"/> with coordinates prune.sparsity, seed and <paramref name="extra"/>.</summary>
    public static StoredRun Run(string label, double sparsity, long seed, double? testAccuracy, RunStatus status = RunStatus.Done,
        int depth = 2, double lr = 0.1, double? validation = null, IReadOnlyList<EpochMetrics>? epochs = null,
        PruningRecord? pruning = null, Dictionary<string, string>? extra = null)
    {
        var config = new RunConfig(new DataSettings(), new ModelSettings(Depth: depth), new InitSettings(),
            new PruneSettings(sparsity == 0 ? "none" : label.ToLowerInvariant(), sparsity), new TrainSettings(Lr: lr), seed);
        var coordinates = new Dictionary<string, string>
        {
            ["prune.sparsity"] = sparsity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (k, v) in extra ?? []) coordinates[k] = v;
        var result = status == RunStatus.Done ? new RunResult(testAccuracy, 0.5, validation, 1, 1, 2, Env) : null;
        var id = $"{label}-{sparsity}-{seed}-{depth}-{lr}".ToLowerInvariant();
        return new StoredRun(id, config, status, 1, null, status == RunStatus.Failed ? "diverged: loss is NaN" : null,
            epochs ?? [], pruning, result, [(Key, label, coordinates)]);
    }

    /// <summary>The same run listed under further labels (a dense run shared by several rows).</summary>
    public static StoredRun AlsoUnder(StoredRun run, params string[] labels) => run with
    {
        Entries = [.. run.Entries, .. labels.Select(l => (Key, l, run.Entries[0].Coordinates))],
    };

    public static PruningRecord PrunedAt(double sparsity, params (string Name, long Kept, long Total, double[] Units)[] layers) =>
        new(sparsity, layers.Sum(l => l.Kept), layers.Sum(l => l.Total), [.. layers.Select(l => new LayerReport(l.Name, l.Kept, l.Total))],
            layers.ToDictionary(l => l.Name, l => l.Units), [], 0.1);
}
