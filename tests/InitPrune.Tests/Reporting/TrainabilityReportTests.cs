using System.Globalization;
using InitPrune.Experiments.Sweeps;
using InitPrune.Reporting;
using InitPrune.Training;
using static InitPrune.Tests.Reporting.ReportRuns;

namespace InitPrune.Tests.Reporting;

/// <summary>Seed 002 Figs. 16–17's view: accuracy and epochs to converge against ‖J‖ at initialization.</summary>
public sealed class TrainabilityReportTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "initprune-trainability-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    static EpochMetrics Epoch(int epoch, double? test, double? validation = null) => new(epoch, 0.1, 1, 1, test, 1, 1, null, validation);

    [Fact]
    public void A_run_converges_at_the_first_epoch_within_95_percent_of_its_best_accuracy()
    {
        // Best 0.95 → threshold 0.9025: epoch 3 (0.93) is the first at or above it.
        Assert.Equal(3, TrainabilityReport.EpochsToConverge([Epoch(1, 0.5), Epoch(2, 0.8), Epoch(3, 0.93), Epoch(4, 0.95), Epoch(5, 0.94)]));
        // Validation accuracy wins over test accuracy when recorded: validation best 0.6 → threshold 0.57, reached at epoch 2.
        Assert.Equal(2, TrainabilityReport.EpochsToConverge([Epoch(1, 0.99, 0.3), Epoch(2, 0.1, 0.58), Epoch(3, 0.1, 0.6)]));
        Assert.Null(TrainabilityReport.EpochsToConverge([Epoch(1, null)]));
        Assert.Null(TrainabilityReport.EpochsToConverge([]));
    }

    static StoredRun Trained(string label, double sigmaW, long seed, double accuracy, double? norm, params EpochMetrics[] epochs)
    {
        var run = Run(label, 0, seed, accuracy, epochs: epochs, extra: new() { ["init.sigma_w"] = sigmaW.ToString(CultureInfo.InvariantCulture) });
        return run with
        {
            Id = $"{run.Id}-{sigmaW}",
            Config = run.Config with { Init = new InitSettings(SigmaW: sigmaW) },
            Jacobian = norm is { } n ? [new JacobianPoint(0, 0, n, 0, null)] : null,
        };
    }

    [Fact]
    public void The_table_gives_the_geometric_mean_norm_the_mean_accuracy_and_the_mean_epochs_per_cell()
    {
        var layout = new ReportLayout(Columns: "init.sigma_w");
        var runs = new List<StoredRun>
        {
            Trained("VGG-5", 1.5, 0, 0.80, 10, Epoch(1, 0.5), Epoch(2, 0.8)),
            Trained("VGG-5", 1.5, 1, 0.60, 1000, Epoch(1, 0.6), Epoch(2, 0.6)),
            Trained("VGG-5", 2.5, 0, 0.10, 1e6, Epoch(1, 0.1), Epoch(2, 0.1), Epoch(3, 0.1)),
        };
        var a = SweepAnalysis.Build(Sweep(layout), runs);

        var table = Assert.Single(TrainabilityReport.Tables(a));

        Assert.Contains("95 %", table.Title);
        Assert.Equal(["VGG-5, sigma_w 1.5", "VGG-5, sigma_w 2.5"], table.Rows.Select(r => r.Label));
        var first = table.Rows[0].Cells;
        Assert.Equal(100, first[0].Mean!.Value, 9); // √(10 · 1000)
        Assert.Equal(70, first[1].Mean!.Value, 9);
        Assert.Equal(1.5, first[2].Mean!.Value, 9); // epochs 2 and 1
        Assert.Equal(2, first[3].Mean!.Value, 9);
        Assert.Equal(1e6, table.Rows[1].Cells[0].Mean!.Value, 3);
        Assert.Equal(1, table.Rows[1].Cells[2].Mean!.Value, 9);

        SweepReport.Write(Sweep(layout), runs, dir);
        Assert.True(File.Exists(Path.Combine(dir, "trainability_accuracy_vs_jacobian.png")));
        Assert.True(File.Exists(Path.Combine(dir, "trainability_epochs_vs_jacobian.svg")));
        Assert.Contains("Trainability against ‖J‖ at initialization", File.ReadAllText(Path.Combine(dir, "report.md")));
    }

    [Fact]
    public void Runs_without_a_jacobian_at_step_0_or_a_jacobian_norm_report_have_no_trainability_view()
    {
        var runs = new List<StoredRun> { Trained("A", 1.5, 0, 0.8, null, Epoch(1, 0.8)) };
        var withNorm = new List<StoredRun> { Trained("A", 1.5, 0, 0.8, 3, Epoch(1, 0.8)) };

        Assert.Empty(TrainabilityReport.Tables(SweepAnalysis.Build(Sweep(new ReportLayout(Columns: "init.sigma_w")), runs)));
        Assert.Empty(TrainabilityReport.Tables(SweepAnalysis.Build(Sweep(new ReportLayout(Columns: "init.sigma_w", Metric: "jacobian_norm")), withNorm)));
        Assert.Single(TrainabilityReport.Tables(SweepAnalysis.Build(Sweep(new ReportLayout(Columns: "init.sigma_w")), withNorm)));
    }
}
