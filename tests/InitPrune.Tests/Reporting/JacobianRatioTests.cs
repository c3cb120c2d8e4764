using System.Globalization;
using System.Text.Json;
using InitPrune.Engine;
using InitPrune.Experiments;
using InitPrune.Experiments.Sweeps;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Reporting;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using InitPrune.Theory.Jacobian;
using InitPrune.Training;
using MathNet.Numerics.Distributions;
using static TorchSharp.torch;

namespace InitPrune.Tests.Reporting;

/// <summary>
/// The report metric <c>jacobian_ratio</c> (seed 002 §5, Figs. 3–4): ‖J‖ at step 0 of a pruned run over that of the
/// dense run of the same seed, its theory (ρ·√m)^L, the edges of stability, and the recipe at the smoke scale.
/// </summary>
public class JacobianRatioTests
{
    static StoredRun Measured(string label, double sparsity, long seed, double norm, string rescale = "none", string method = "random", int depth = 5)
    {
        var run = ReportRuns.Run(label, sparsity, seed, 50, depth: depth);
        var prune = sparsity == 0 ? new PruneSettings() : new PruneSettings(method, sparsity, Rescale: rescale);
        return run with { Config = run.Config with { Prune = prune }, Jacobian = [new JacobianPoint(0, 0, norm, 0, null)] };
    }

    [Fact]
    public void The_ratio_divides_by_the_dense_run_of_the_same_settings_and_seed_only()
    {
        var dense0 = Measured("random", 0, 0, 4);
        var dense1 = Measured("random", 0, 1, 8);
        var pruned0 = Measured("random", 0.9, 0, 1);
        var pruned1 = Measured("random", 0.9, 1, 6);
        var orphan = Measured("random", 0.9, 2, 3);
        var deeper = Measured("random", 0.9, 0, 3, depth: 7);
        var metric = ReportMetric.Parse(ReportMetric.JacobianRatio).WithRuns([dense0, dense1, pruned0, pruned1, orphan, deeper]);
        Assert.Equal(0.25, metric.Of(pruned0));
        Assert.Equal(0.75, metric.Of(pruned1));
        Assert.Equal(1, metric.Of(dense0));
        Assert.Null(metric.Of(orphan));
        Assert.Null(metric.Of(deeper));
        // A zero norm (float32 underflow) has no ratio, and neither has a reference without one.
        var underflow = Measured("random", 0.99, 0, 0);
        Assert.Null(metric.Of(underflow));
        Assert.Null(ReportMetric.Parse(ReportMetric.JacobianRatio).WithRuns([dense0 with { Jacobian = [] }, pruned0]).Of(pruned0));
    }

    [Fact]
    public void The_theory_gain_is_the_rescaling_times_the_root_of_the_kept_share_of_the_squared_weights()
    {
        Assert.Equal(Math.Sqrt(0.1), JacobianRatio.LayerGain("random", "none", 0.9, 256)!.Value, 12);
        Assert.Equal(1, JacobianRatio.LayerGain("random", "random", 0.9, 256)!.Value, 12);
        Assert.Equal(1, JacobianRatio.LayerGain("magnitude", "magnitude", 0.9, 256)!.Value, 9);
        Assert.Equal(1, JacobianRatio.LayerGain("none", "none", 0, 256));
        Assert.Null(JacobianRatio.LayerGain("snip", "none", 0.9, 256));
        // Magnitude pruning keeps the top 10% of |z|, z ~ N(0, 1): E[z²; |z| > c] = 2(cφ(c) + 1 − Φ(c)), c = Φ⁻¹(0.95).
        double c = Normal.InvCDF(0, 1, 0.95), kept = 2 * (c * Normal.PDF(0, 1, c) + 1 - Normal.CDF(0, 1, c));
        Assert.Equal(Math.Sqrt(kept), JacobianRatio.LayerGain("magnitude", "none", 0.9, 256)!.Value, 2);
        Assert.Equal(Math.Sqrt(kept / 0.1), JacobianRatio.LayerGain("magnitude", "random", 0.9, 256)!.Value, 2);
    }

    [Fact]
    public void The_edges_of_stability_at_width_256_are_vacuous_in_natural_log_and_at_68_and_87_percent_in_log10()
    {
        var edges = JacobianRatio.Edges(256);
        Assert.Equal(Math.Pow(Math.Log(256), 5) / 256, edges[0].KeptLn, 12);
        Assert.True(edges[0].KeptLn > 20 && edges[1].KeptLn > 3.6);
        Assert.Equal(0.684, 1 - edges[0].KeptLog10, 3);
        Assert.Equal(0.869, 1 - edges[1].KeptLog10, 3);
        Assert.Equal((5, 4), (edges[0].Power, edges[1].Power));
    }

    static double Measure(string? method, double sparsity, string rescale, int width, int depth)
    {
        using var dir = new TempDir();
        var init = new InitSettings(SigmaB: 0).ToSpec("relu");
        var prune = method is null ? null : new PruneSettings(method, sparsity, "layer-wise", rescale, PruneFirst: false).ToSpec(init);
        return JacobianJob.Run(new JacobianJobOptions("fashion-mnist", new ModelSpec("mlp", depth, width), init, prune,
            JacobianTracker.OptionsFor(JacobianSpan.Hidden, 3), Inputs: 4, Seed: 3), dir.Path).Mean;
    }

    /// <summary>
    /// Theorems 5–6 on a wide net through <c>initprune jacobian</c> (float64, its own Fashion-MNIST inputs; a 2-D input
    /// such as the ellipse's would leave a quarter of the first layer's units without inputs; the first layer, outside
    /// the span, stays dense as in the recipe): at s = 0.5 and depth 6
    /// (L = 5) random pruning × (1 − s)^(−1/2) keeps ‖J‖ of the dense one within 15% and the unrescaled networks follow
    /// gain^L within 25%. Magnitude pruning × t_n measures ≈ 0.8 here (≈ 0.96 per layer, as in the recipe's figures): far
    /// closer to 1 than without rescaling or with random pruning's factor (≈ 1.36^L), but not within 15%.
    /// </summary>
    [Fact]
    public void On_a_wide_net_the_rescaled_ratios_stay_near_1_and_the_unrescaled_ones_follow_the_gain_to_the_power_L()
    {
        const int width = 512, depth = 6, L = depth - 1;
        double dense = Measure(null, 0, "none", width, depth);
        Assert.InRange(Measure("random", 0.5, "random", width, depth) / dense, 0.85, 1.15);
        double tn = Measure("magnitude", 0.5, "magnitude", width, depth) / dense;
        Assert.InRange(tn, 0.7, 1.15);
        Assert.True(Measure("magnitude", 0.5, "random", width, depth) / dense > 2);
        double random = Measure("random", 0.5, "none", width, depth) / dense, expected = Math.Pow(0.5, L / 2.0);
        Assert.InRange(random / expected, 0.75, 1.25);
        double magnitude = Measure("magnitude", 0.5, "none", width, depth) / dense;
        Assert.InRange(magnitude / Math.Pow(JacobianRatio.LayerGain("magnitude", "none", 0.5, width)!.Value, L), 0.7, 1.25);
        Assert.True(tn > magnitude);
    }

    /// <summary>
    /// A sweep's ratio against an independent computation: the dense network rebuilt from the seed, the pruned run's
    /// mask read off its final weights and applied by hand with ρ = (kept share)^(−1/2), both measured on the tracker's
    /// inputs. The pruned run's weights are the dense initialization masked and rescaled (same seed, same init).
    /// </summary>
    [Fact]
    public void A_sweeps_ratio_is_the_hand_pruned_dense_initializations_norm_over_the_dense_norm()
    {
        using var dir = new TempDir();
        var spec = dir.File("ratio.yaml");
        File.WriteAllText(spec, """
            name: ratio
            data: {name: ellipse, test_subset: 200}
            model: {name: mlp, depth: 4, width: 32}
            init: {name: normal, sigma_b: 0}
            prune: {method: random, sparsity: [0, 0.8], scope: layer-wise}
            train: {epochs: 0, jacobian_every: 1, jacobian_inputs: 3}
            seeds: 1
            variants:
              - label: plain
                prune: {rescale: none}
              - label: rescaled
                prune: {rescale: random}
            report: {rows: label, columns: model.depth, metric: jacobian_ratio, log_y: true}
            """);
        var outDir = dir.Sub("out");
        var sweep = CliRunner.Run("sweep", spec, "--out", outDir, "--json");
        Assert.True(sweep.ExitCode == 0, sweep.Stderr);
        Assert.Equal(3, sweep.Json.GetProperty("done").GetInt32());
        var report = CliRunner.Run("report", spec, "--store", Path.Combine(outDir, "store.sqlite"), "--artifacts", outDir, "--json");
        Assert.True(report.ExitCode == 0, report.Stderr);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "reports", "ratio@full", "report.json")));
        var table = json.RootElement.GetProperty("tables").EnumerateArray().Single(t => t.GetProperty("title").GetString()!.EndsWith("prune.sparsity = 0.8"));
        var reported = table.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("label").GetString()!,
            r => r.GetProperty("cells")[0].GetProperty("mean").GetDouble());

        List<StoredRun> runs;
        using (var store = SqliteResultsStore.Open(Path.Combine(outDir, "store.sqlite"))) runs = [.. store.Load()];
        var denseRun = runs.Single(r => r.Config.Prune.Method == "none");
        var c = denseRun.Config;
        using var cache = new RunDataCache(null);
        var split = cache.Get(c.Data).Split;
        using var dense = Setup.Model(split, c.ToModelSpec(), c.ToInitSpec(), c.Seed);
        using var tracker = new JacobianTracker(dense, split.Test, c.ToTrainConfig(), Seeds.For(c.Seed, "train"));
        double denseNorm = tracker.Measure(dense, 0, 0, null).Norm;
        Assert.Equal(denseNorm, denseRun.JacobianSeries.Single().Norm, 1e-6 * denseNorm);

        foreach (var (label, rescale) in new[] { ("plain", "none"), ("rescaled", "random") })
        {
            var run = runs.Single(r => r.Config.Prune.Rescale == rescale && r.Config.Prune.Method == "random");
            using var final = TensorFile.Load(Path.Combine(outDir, "runs", run.Id, "final.safetensors"));
            using var pruned = Setup.Model(split, c.ToModelSpec(), c.ToInitSpec(), c.Seed);
            using (no_grad())
            {
                foreach (var (name, w) in pruned.named_parameters().Where(p => p.name.EndsWith("weight", StringComparison.Ordinal)))
                {
                    using var mask = final[name].ne(0).to(w.dtype);
                    double keptShare = mask.mean().item<float>();
                    Assert.InRange(keptShare, 0.19, 0.21);
                    double rho = rescale == "random" ? 1 / Math.Sqrt(keptShare) : 1;
                    w.mul_(mask).mul_(rho);
                    Assert.True(w.allclose(final[name], rtol: 1e-5, atol: 1e-7), $"{label} {name}: the pruned weights are not the dense init masked and rescaled");
                }
            }
            double prunedNorm = tracker.Measure(pruned, 0, 0, null).Norm;
            Assert.Equal(prunedNorm, run.JacobianSeries.Single().Norm, 1e-3 * prunedNorm);
            Assert.Equal(prunedNorm / denseNorm, reported[label], 2e-3 * prunedNorm / denseNorm);
        }
        Assert.True(reported["rescaled"] > 3 * reported["plain"]);
    }

    [Fact]
    public void A_sweep_that_prunes_nothing_shows_no_ratio_table_beside_its_accuracy()
    {
        using var dir = new TempDir();
        var spec = dir.File("dense.yaml");
        File.WriteAllText(spec, """
            name: dense
            data: {name: ellipse, train_subset: 64, test_subset: 64}
            model: {name: mlp, depth: [2, 3], width: 16}
            init: {name: normal, sigma_b: 0}
            train: {epochs: 1, batch_size: 32, jacobian_every: 1000, jacobian_inputs: 2}
            seeds: 1
            report: {rows: label, columns: model.depth, metric: test_accuracy}
            """);
        var outDir = dir.Sub("out");
        Assert.Equal(0, CliRunner.Run("sweep", spec, "--out", outDir).ExitCode);
        var report = CliRunner.Run("report", spec, "--store", Path.Combine(outDir, "store.sqlite"), "--artifacts", outDir, "--json");
        Assert.True(report.ExitCode == 0, report.Stderr);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "reports", "dense@full", "report.json")));
        var titles = json.RootElement.GetProperty("tables").EnumerateArray().Select(t => t.GetProperty("title").GetString()!).ToList();
        // The ‖J‖ it recorded is there (the trainability view), a ratio of every run to itself is not.
        Assert.Contains(titles, t => t.StartsWith("Trainability against ‖J‖", StringComparison.Ordinal));
        Assert.DoesNotContain(titles, t => t.Contains("J_pruned", StringComparison.Ordinal));
    }

    /// <summary>The shipped recipe at the smoke scale: ratio 1 at s = 0, the gain table, the edges and the plots with theory lines.</summary>
    [Fact]
    public void The_figure_3_smoke_recipe_reports_ratios_gains_edges_and_plots()
    {
        using var dir = new TempDir();
        var recipe = Path.Combine(Repo.Root, "configs", "seed002-fig3-jacobian-pruning.yaml");
        var outDir = dir.File("out");
        var sweep = CliRunner.Run("sweep", recipe, "--scale", "smoke", "--out", outDir, "--json");
        Assert.True(sweep.ExitCode == 0, sweep.Stderr);
        Assert.Equal(26, sweep.Json.GetProperty("done").GetInt32());
        var report = CliRunner.Run("report", recipe, "--scale", "smoke", "--store", Path.Combine(outDir, "store.sqlite"), "--artifacts", outDir, "--json");
        Assert.True(report.ExitCode == 0, report.Stderr);
        var folder = Path.Combine(outDir, "reports", "seed002-fig3-jacobian-pruning@smoke");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "report.json")));
        var tables = json.RootElement.GetProperty("tables").EnumerateArray().ToList();
        var atZero = tables.Single(t => t.GetProperty("title").GetString()!.EndsWith("prune.sparsity = 0"));
        Assert.All(atZero.GetProperty("rows").EnumerateArray().SelectMany(r => r.GetProperty("cells").EnumerateArray()), cell => Assert.Equal(1, cell.GetProperty("mean").GetDouble()));
        var edges = tables.Single(t => t.GetProperty("title").GetString()!.StartsWith("Theory: edges of stability at n = 64"));
        Assert.Contains("vacuous", edges.GetProperty("rows")[0].GetProperty("cells")[1].GetProperty("text").GetString());
        var gains = tables.Single(t => t.GetProperty("title").GetString()!.StartsWith("Per-layer gain"));
        foreach (var row in gains.GetProperty("rows").EnumerateArray())
        {
            // "measured / theory": the fitted per-layer gain within 15% of ρ·√m.
            foreach (var cell in row.GetProperty("cells").EnumerateArray())
            {
                var parts = cell.GetProperty("text").GetString()!.Split(" / ");
                double measured = double.Parse(parts[0], CultureInfo.InvariantCulture), theory = double.Parse(parts[1], CultureInfo.InvariantCulture);
                Assert.True(Math.Abs(measured / theory - 1) < 0.15, $"{row.GetProperty("label")}: {measured} vs {theory}");
            }
        }
        var versusSparsity = File.ReadAllText(Directory.GetFiles(folder, "jacobian_ratio_vs_sparsity_random-no-rescaling*.svg").Single());
        Assert.Contains("theory: edge, random (Theorem 5)", versusSparsity);
        Assert.Contains("theory (ρ·√m)^L", versusSparsity);
        Assert.Contains("theory: random × (1 − s)^−½", File.ReadAllText(Path.Combine(folder, "jacobian_ratio_vs_depth_sparsity-0.9.svg")));
    }
}
