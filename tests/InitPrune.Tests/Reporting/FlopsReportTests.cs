using System.Text.Json;
using InitPrune.Experiments.Sweeps;
using InitPrune.Reporting;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using SkiaSharp;
using static InitPrune.Tests.Reporting.ReportRuns;

namespace InitPrune.Tests.Reporting;

/// <summary>Effective FLOPs in sweep reports and prune summaries, against counts made by hand.</summary>
public sealed class FlopsReportTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("initprune-flops-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    // ReportRuns' runs: fashion-mnist (784 inputs, 10 classes), mlp depth 2 width 100: 784·100 + 100·100 + 100·10 = 89,400 MACs.
    static PruningRecord Kept(double sparsity, long l0, long l1, long l2) =>
        PrunedAt(sparsity, ("layers.0.weight", l0, 78400, []), ("layers.2.weight", l1, 10000, []), ("layers.4.weight", l2, 1000, []));

    [Fact]
    public void The_report_has_a_table_of_hand_computed_effective_flops_and_the_accuracy_vs_flops_plot()
    {
        var runs = new List<StoredRun>
        {
            AlsoUnder(Run("SNIP", 0, 0, 0.91), "Random"),
            Run("SNIP", 0.5, 0, 0.90, pruning: Kept(0.5, 39200, 5000, 500)),
            Run("SNIP", 0.9, 0, 0.80, pruning: Kept(0.9, 7840, 1000, 100)),
            Run("SNIP", 0.9, 1, 0.82, pruning: Kept(0.9, 7840, 1000, 100)),
            Run("Random", 0.5, 0, 0.85, pruning: Kept(0.5, 39200, 5000, 1000)),
            // Its record's tensors do not fit the model of its settings (as after a dataset fallback): not counted.
            Run("Random", 0.9, 0, 0.70, pruning: PrunedAt(0.9, ("layers.0.weight", 1, 16, []))),
        };

        var (tables, files, _) = SweepReport.Write(Sweep(), runs, dir);

        Assert.DoesNotContain(tables, t => t.Title.Contains("FLOPs", StringComparison.Ordinal));
        var md = File.ReadAllText(files.Markdown);
        Assert.Contains("## Effective FLOPs per sample (2 × multiply-accumulates of the kept weights; dense 178,800)", md);
        // 2 × kept MACs: dense 178,800; SNIP 0.5: 2 × 44,700; 0.9: 2 × 8,940; Random 0.5: 2 × 45,200.
        Assert.Contains("| SNIP | 178,800 | 89,400 | 17,880 |", md);
        Assert.Contains("| Random | 178,800 | 90,400 | — |", md);
        Assert.Contains("(accuracy_vs_effective_flops.png)", md);
        Assert.Contains("initprune bench --inference", md);
        var png = Path.Combine(dir, "accuracy_vs_effective_flops.png");
        Assert.Contains(png, files.Images);
        Assert.Contains(Path.Combine(dir, "accuracy_vs_effective_flops.svg"), files.Images);
        using (var bmp = SKBitmap.Decode(png)) Assert.Equal((800, 500), (bmp.Width, bmp.Height));
        Assert.Contains("178,800", File.ReadAllText(files.Html));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "report.json")));
        var flops = Assert.Single(json.RootElement.GetProperty("flops").EnumerateArray());
        Assert.Equal(89400, flops.GetProperty("rows")[0].GetProperty("cells")[1].GetProperty("mean").GetDouble());
    }

    [Fact]
    public void A_tiny_sweeps_report_shows_the_effective_flops_of_its_masks()
    {
        using var tmp = new TempDir();
        var (spec, outDir) = TinySweep(tmp, "flops-test");
        var report = CliRunner.Run("report", spec, "--store", Path.Combine(outDir, "store.sqlite"), "--artifacts", outDir, "--out", tmp.File("report"));
        Assert.Equal(0, report.ExitCode);

        // Ellipse: 2 features, 4 classes; mlp 2-8-4 has 48 weights, 96 FLOPs dense; at sparsity 0.5 it keeps 24: 48 FLOPs.
        var md = File.ReadAllText(tmp.File("report/report.md"));
        Assert.Contains("dense 96)", md);
        Assert.Matches(@"\| random \| 96 \| 48 \|", md);
        Assert.True(File.Exists(tmp.File("report/accuracy_vs_effective_flops.png")));
        Assert.True(File.Exists(tmp.File("report/accuracy_vs_effective_flops.svg")));
    }

    [Fact]
    public void A_sweep_without_pruned_runs_has_no_flops_section()
    {
        var (_, files, _) = SweepReport.Write(Sweep(), [Run("SNIP", 0, 0, 0.91), Run("SNIP", 0, 1, 0.92)], dir);

        Assert.DoesNotContain("FLOPs", File.ReadAllText(files.Markdown), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, "accuracy_vs_effective_flops.png")));
    }

    [Fact]
    public void Prune_reports_dense_and_kept_macs_of_its_mask()
    {
        using var tmp = new TempDir();
        var outDir = tmp.File("p");
        var r = CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--depth", "1", "--width", "8", "--method", "random", "--sparsity", "0.5", "--out", outDir, "--json");
        Assert.Equal(0, r.ExitCode);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var f = summary.RootElement.GetProperty("flops");
        // Ellipse samples have 2 features and 4 classes: 2·8 + 8·4 = 48 MACs dense; kept MACs are the kept weights.
        Assert.Equal(48, f.GetProperty("dense_macs").GetInt64());
        var keptWeights = summary.RootElement.GetProperty("layers").EnumerateArray()
            .Where(l => l.GetProperty("name").GetString()!.EndsWith(".weight", StringComparison.Ordinal)).Sum(l => l.GetProperty("kept").GetInt64());
        Assert.Equal(keptWeights, f.GetProperty("kept_macs").GetInt64());
        Assert.Equal(2 * keptWeights, f.GetProperty("effective_flops").GetInt64());

        var human = CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--depth", "1", "--width", "8", "--method", "random", "--sparsity", "0.5", "--out", tmp.File("q"));
        Assert.Equal(0, human.ExitCode);
        Assert.Contains("FLOPs per sample (2 × MACs): dense 96, effective", human.Stdout);
    }
}
