using System.Globalization;
using InitPrune.Experiments.Sweeps;
using InitPrune.Reporting;
using InitPrune.Theory;
using static InitPrune.Tests.Reporting.ReportRuns;

namespace InitPrune.Tests.Reporting;

/// <summary>The seed 001 theory drawn over depth × sparsity heat maps: the curve's values and when it is drawn.</summary>
public sealed class HeatmapTheoryTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "initprune-heatmap-theory-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    static readonly ReportLayout Layout = new(HeatmapX: "prune.sparsity", HeatmapY: "model.depth");

    /// <summary>A 2 × 2 grid of depths {2, 20} × sparsities {0.5, 0.9} under <paramref name="label"/> with the given init and model.</summary>
    static List<StoredRun> Grid(string label, InitSettings init, string activation = "relu", string method = "snip", Func<int, double>? sigmaW = null) =>
        [.. from depth in new[] { 2, 20 }
            from s in new[] { 0.5, 0.9 }
            let run = Run(label, s, 0, 0.8, depth: depth, extra: new() { ["model.depth"] = depth.ToString(CultureInfo.InvariantCulture) })
            select run with
            {
                Config = run.Config with
                {
                    Model = run.Config.Model with { Activation = activation },
                    Init = sigmaW is null ? init : init with { SigmaW = sigmaW(depth) },
                    Prune = run.Config.Prune with { Method = method },
                },
            }];

    static HeatmapTheory Overlay(List<StoredRun> runs, string row) => ReportPlots.HeatmapOverlay(SweepAnalysis.Build(Sweep(Layout), runs), row, []);

    [Fact]
    public void Over_an_ordered_relu_mlp_the_curve_is_theorem_1_in_closed_form_and_6_xi_c_is_6_over_ln_2()
    {
        // ReLU, σw = 1: χ = σw²·P(Z > 0) = 1/2 exactly, κ = ln 2 / 8, ξ_c = −1/ln χ = 1/ln 2 (ordered, c* = 1); width N = 100.
        var theory = Overlay(Grid("Ordered", new InitSettings(SigmaW: 1, SigmaB: 0.05)), "Ordered");

        double kappa = Math.Log(2) / 8, n2 = 100.0 * 100;
        Assert.True(theory.Drawn);
        Assert.Equal(0.5, theory.Chi!.Value, 9);
        Assert.Equal([2, 20], theory.Points.Select(p => p.Depth));
        foreach (var p in theory.Points)
        {
            double l = p.Depth + 1;
            Assert.Equal(l, p.Layers);
            Assert.Equal((1 + Math.Log(kappa * l * n2) / kappa) / l, p.BoundLn, 9);
            Assert.Equal((1 + Math.Log10(kappa * l * n2) / kappa) / l, p.BoundLog10, 9);
        }
        Assert.Equal(6 / Math.Log(2), theory.TrainableDepth!.Value, 6);
        Assert.Contains("Theorem 1", theory.Note);
    }

    [Fact]
    public void Over_the_seed_001_ordered_tanh_mlp_the_curve_is_the_toolkits_s_cr_bound_and_depth_scale()
    {
        var theory = Overlay(Grid("Ordered", new InitSettings(SigmaW: 0.8, SigmaB: 0.05), activation: "tanh"), "Ordered");

        var map = new MeanFieldMap("tanh", 0.8, 0.05);
        double kappa = SbpCriticalSparsity.Kappa(map.Chi());
        Assert.Equal([SbpCriticalSparsity.Bound(3, 100, kappa), SbpCriticalSparsity.Bound(21, 100, kappa)], theory.Points.Select(p => p.BoundLn));
        Assert.Equal(SbpCriticalSparsity.Bound(21, 100, kappa, LogBase.Ten), theory.Points[1].BoundLog10);
        // `initprune theory phase --activation tanh --sigma-w 0.8 --sigma-b 0.05` prints ξ_c = 2.17565926.
        Assert.Equal(6 * 2.17565926, theory.TrainableDepth!.Value, 5);
    }

    [Fact]
    public void On_the_edge_of_chaos_nothing_is_drawn_and_the_note_says_why()
    {
        var relu = Overlay(Grid("EOC", new InitSettings(SigmaW: Math.Sqrt(2), SigmaB: 0)), "EOC");
        var tanh = Overlay(Grid("EOC", new InitSettings(Name: "eoc", SigmaB: 0.05), activation: "tanh"), "EOC");

        foreach (var t in new[] { relu, tanh })
        {
            Assert.False(t.Drawn);
            Assert.Empty(t.Points);
            Assert.Contains("Edge of Chaos", t.Note);
            Assert.Equal(1.0, t.Chi!.Value, 6);
        }
    }

    [Fact]
    public void Another_method_model_or_mixed_settings_draw_nothing_with_the_reason()
    {
        var magnitude = Overlay(Grid("Mag", new InitSettings(SigmaW: 1, SigmaB: 0.05), method: "magnitude"), "Mag");
        var mixed = Overlay(Grid("Mixed", new InitSettings(SigmaW: 1, SigmaB: 0.05), sigmaW: d => d == 2 ? 1 : 0.9), "Mixed");
        var kaiming = Overlay(Grid("K", new InitSettings(Name: "kaiming-normal")), "K");
        var vcnn = Grid("V", new InitSettings(SigmaW: 1, SigmaB: 0.05));
        vcnn = [.. vcnn.Select(r => r with { Config = r.Config with { Model = r.Config.Model with { Name = "vcnn" } } })];

        Assert.Contains("snip", magnitude.Note);
        Assert.Contains("differ", mixed.Note);
        Assert.Contains("kaiming-normal", kaiming.Note);
        Assert.Contains("not an MLP", Overlay(vcnn, "V").Note);
        Assert.All(new[] { magnitude, mixed, kaiming, Overlay(vcnn, "V") }, t => Assert.False(t.Drawn));
    }

    [Fact]
    public void The_report_prints_each_heat_maps_overlay_note_under_it()
    {
        var runs = Grid("Ordered", new InitSettings(SigmaW: 1, SigmaB: 0.05)).Concat(Grid("EOC", new InitSettings(SigmaW: Math.Sqrt(2), SigmaB: 0))).ToList();

        SweepReport.Write(Sweep(Layout), runs, dir);

        var md = File.ReadAllText(Path.Combine(dir, "report.md"));
        Assert.Contains("6ξ\\_c = 8.656", md);
        Assert.Contains("on the Edge of Chaos κ = 0", md);
        Assert.Contains("6ξ_c = 8.656", File.ReadAllText(Path.Combine(dir, "report.html")));
    }

    [Theory]
    [InlineData(0.3, 0.5)]
    [InlineData(0.7, 1.5)]
    [InlineData(0.95, 2.125)]
    [InlineData(0.05, -0.125)]
    [InlineData(2.0, 2.5)]
    [InlineData(-1.0, -0.5)]
    public void A_value_falls_on_a_categorical_axis_linearly_between_its_ticks(double value, double position) =>
        Assert.Equal(position, HeatmapTheory.AxisPosition([0.1, 0.5, 0.9], value), 12);
}
