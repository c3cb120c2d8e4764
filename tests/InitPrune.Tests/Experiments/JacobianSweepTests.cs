using System.Text.Json;
using InitPrune.Experiments.Sweeps;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Experiments;

/// <summary>
/// ‖J‖ tracking end to end: the spec fields and their normalization, <c>train --jacobian-every</c>, and the two seed 002
/// recipes at the smoke scale through sweep and report (the metric jacobian_norm, the theory overlay, ‖J‖ vs step).
/// </summary>
public class JacobianSweepTests
{
    static RunConfig Run(string train) => SpecLoader.Parse($$"""
        name: j
        data: {name: ellipse}
        model: {name: mlp, depth: 3}
        train: {{train}}
        """, "j.yaml").Entries.Single().Config;

    [Fact]
    public void Tracking_options_stay_out_of_run_ids_when_off_and_any_K_without_training_is_one()
    {
        Assert.Equal(Run("{epochs: 1}").Id, Run("{epochs: 1, jacobian_inputs: 3, jacobian_span: full}").Id);
        Assert.Equal(new TrainSettings().JacobianInputs, Run("{epochs: 1, jacobian_inputs: 3}").Train.JacobianInputs);
        Assert.NotEqual(Run("{epochs: 1}").Id, Run("{epochs: 1, jacobian_every: 5}").Id);
        Assert.Equal(5, Run("{epochs: 1, jacobian_every: 5}").Train.JacobianEvery);
        var untrained = Run("{epochs: 0, jacobian_every: 5, jacobian_inputs: 3, lr: 0.5}");
        Assert.Equal(new TrainSettings(Epochs: 0, JacobianEvery: 1, JacobianInputs: 3), untrained.Train);
        Assert.Equal(untrained.Id, Run("{epochs: 0, jacobian_every: 1, jacobian_inputs: 3}").Id);
        var e = Assert.Throws<InitPrune.Engine.InitPruneException>(() => Run("{epochs: 1, jacobian_span: input}"));
        Assert.Contains("jacobian_span", e.Message);
    }

    [Fact]
    public void Train_with_jacobian_every_writes_the_series_to_the_json_and_metrics_json()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("train", "--dataset", "ellipse", "--model", "mlp", "--depth", "3", "--width", "16", "--epochs", "2", "--max-steps", "25",
            "--jacobian-every", "10", "--jacobian-inputs", "2", "--out", dir.Path, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var series = r.Json.GetProperty("jacobian").EnumerateArray().ToList();
        Assert.Equal([0L, 10, 20], series.Select(p => p.GetProperty("step").GetInt64()));
        Assert.Equal(JsonValueKind.Null, series[0].TryGetProperty("train_loss", out var none) ? none.ValueKind : JsonValueKind.Null);
        Assert.All(series.Skip(1), p => Assert.True(p.GetProperty("train_loss").GetDouble() > 0));
        Assert.All(series, p => Assert.True(p.GetProperty("norm").GetDouble() > 0));
        var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "metrics.json"))).RootElement;
        Assert.Equal(series.Select(p => p.GetProperty("norm").GetDouble()),
            metrics.GetProperty("jacobian").EnumerateArray().Select(p => p.GetProperty("norm").GetDouble()));

        var plain = CliRunner.Run("train", "--dataset", "ellipse", "--model", "mlp", "--epochs", "1", "--max-steps", "2", "--out", dir.Sub("plain"), "--json");
        Assert.True(plain.ExitCode == 0, plain.Stderr);
        Assert.False(plain.Json.TryGetProperty("jacobian", out _));

        var bad = CliRunner.Run("train", "--dataset", "ellipse", "--model", "mlp", "--depth", "1", "--epochs", "1", "--jacobian-every", "1", "--out", dir.Sub("bad"));
        Assert.Contains("--jacobian-span full", CliRunner.AssertOneLineError(bad));
    }

    /// <summary>
    /// Seed 002 Figure 1 at the smoke scale: ‖J‖ at initialization (step 0 only) for σw² ∈ {0.5, 2, 4} at two depths;
    /// the report shows jacobian_norm, the slope table beside the theory and the plot with the theory overlay.
    /// </summary>
    [Fact]
    public void The_figure_1_smoke_recipe_reports_the_jacobian_norm_against_depth_with_the_theory()
    {
        using var dir = new TempDir();
        var recipe = Path.Combine(Repo.Root, "configs", "seed002-fig1-jacobian-depth.yaml");
        var outDir = dir.File("out");
        var sweep = CliRunner.Run("sweep", recipe, "--scale", "smoke", "--out", outDir, "--json");
        Assert.True(sweep.ExitCode == 0, sweep.Stderr);
        Assert.Equal(6, sweep.Json.GetProperty("done").GetInt32());
        using (var store = SqliteResultsStore.Open(Path.Combine(outDir, "store.sqlite")))
            Assert.All(store.Load(), run => Assert.Equal([0L], run.JacobianSeries.Select(p => p.Step)));
        var report = CliRunner.Run("report", recipe, "--scale", "smoke", "--store", Path.Combine(outDir, "store.sqlite"), "--artifacts", outDir, "--json");
        Assert.True(report.ExitCode == 0, report.Stderr);

        var folder = Path.Combine(outDir, "reports", "seed002-fig1-jacobian-depth@smoke");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "report.json")));
        var tables = json.RootElement.GetProperty("tables").EnumerateArray().ToList();
        Assert.StartsWith("Jacobian norm at init", tables[0].GetProperty("title").GetString());
        Assert.Equal(["5", "20"], tables[0].GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        var norms = tables[0].GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("label").GetString()!,
            r => r.GetProperty("cells").EnumerateArray().Select(c => c.GetProperty("mean").GetDouble()).ToArray());
        // Exploding at σw² = 4, vanishing at 0.5, near-flat at 2 (seed 002 Fig. 1).
        Assert.True(norms["σw² = 4"][1] > 10 * norms["σw² = 4"][0]);
        Assert.True(norms["σw² = 0.5"][1] < norms["σw² = 0.5"][0] / 10);
        Assert.InRange(norms["σw² = 2"][1] / norms["σw² = 2"][0], 0.5, 4);

        var slopes = tables.Single(t => t.GetProperty("title").GetString()!.StartsWith("Slope of ln‖J‖"));
        foreach (var row in slopes.GetProperty("rows").EnumerateArray())
        {
            var cells = row.GetProperty("cells").EnumerateArray().ToList();
            var fitted = cells[0].GetProperty("mean").GetDouble();
            var theory = cells[1].GetProperty("mean").GetDouble();
            Assert.True(Math.Abs(fitted - theory) < 0.15, $"{row.GetProperty("label")}: fitted {fitted}, theory {theory}");
        }
        var svg = File.ReadAllText(Path.Combine(folder, "jacobian_norm_vs_depth.svg"));
        Assert.Contains("theory: σw² = 4", svg);
    }

    /// <summary>Seed 002 Figure 2 at the smoke scale: ‖J‖ every 10 of 40 steps, one plot of ‖J‖ against the step per learning rate.</summary>
    [Fact]
    public void The_figure_2_smoke_recipe_plots_the_jacobian_against_the_step_per_learning_rate()
    {
        using var dir = new TempDir();
        var recipe = Path.Combine(Repo.Root, "configs", "seed002-fig2-jacobian-training.yaml");
        var outDir = dir.File("out");
        var sweep = CliRunner.Run("sweep", recipe, "--scale", "smoke", "--out", outDir, "--json");
        Assert.True(sweep.ExitCode == 0, sweep.Stderr);
        Assert.Equal(4, sweep.Json.GetProperty("done").GetInt32());
        using (var store = SqliteResultsStore.Open(Path.Combine(outDir, "store.sqlite")))
            Assert.All(store.Load(), run => Assert.Equal([0L, 10, 20, 30, 40], run.JacobianSeries.Select(p => p.Step)));
        var report = CliRunner.Run("report", recipe, "--scale", "smoke", "--store", Path.Combine(outDir, "store.sqlite"), "--artifacts", outDir, "--json");
        Assert.True(report.ExitCode == 0, report.Stderr);
        var folder = Path.Combine(outDir, "reports", "seed002-fig2-jacobian-training@smoke");
        var plots = Directory.GetFiles(folder, "jacobian_vs_step_*.svg");
        Assert.Equal(2, plots.Length);
        Assert.All(plots, p => Assert.Contains("depth 10", File.ReadAllText(p)));
    }
}
