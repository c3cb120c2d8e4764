using InitPrune.Experiments.Sweeps;
using InitPrune.Pruning;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using InitPrune.Training;

namespace InitPrune.Tests.Reporting;

/// <summary>Synthetic stored runs for report tests: hand-chosen accuracies, coordinates and pruning records.</summary>
internal static class ReportRuns
{
    public const string Key = "demo@small";

    /// <summary>
    /// Writes and runs a two-run sweep (random pruning at 0 and 0.5 of a 1×8 MLP, one epoch on 100 ellipse samples)
    /// named <paramref name="name"/> under <paramref name="tmp"/>; returns the spec and the sweep's output folder.
    /// </summary>
    public static (string Spec, string Out) TinySweep(TempDir tmp, string name)
    {
        var spec = tmp.File("spec.yaml");
        File.WriteAllText(spec, $$"""
            name: {{name}}
            data: {name: ellipse, train_subset: 100, test_subset: 50}
            model: {name: mlp, depth: 1, width: 8}
            prune: {method: random, sparsity: [0, 0.5]}
            train: {lr: 0.05, epochs: 1, batch_size: 50}
            seeds: 1
            """);
        var outDir = tmp.File("out");
        var r = CliRunner.Run("sweep", spec, "--out", outDir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return (spec, outDir);
    }

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
