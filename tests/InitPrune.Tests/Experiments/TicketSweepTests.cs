using System.Text.Json;
using InitPrune.Experiments.Sweeps;
using InitPrune.IO;
using InitPrune.Pruning;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using InitPrune.Tickets;
using InitPrune.Training;

namespace InitPrune.Tests.Experiments;

/// <summary>
/// Edge-popup inside sweeps: specs normalize it like any method, each search epoch is stored and checkpointed, a run
/// stopped mid-search resumes bit for bit, <c>prune --method edge-popup</c> writes what <c>ticket</c> writes, and seed
/// 004's Figure 1 recipe runs end to end at its smoke scale.
/// </summary>
public class TicketSweepTests
{
    sealed class Stop : Exception;

    static RunConfig FromSpec(string prune, string train = "{epochs: 0}")
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "s.yaml");
        File.WriteAllText(path, $"name: s\ndata: {{name: ellipse}}\nmodel: {{name: mlp, depth: 2, width: 16}}\ninit: {{name: slt-he}}\nprune: {prune}\ntrain: {train}\n");
        return SpecLoader.Load(path, "full", null).Entries.Single().Config;
    }

    [Fact]
    public void A_spec_normalizes_edge_popup_like_any_method()
    {
        var plain = FromSpec("{method: edge-popup, sparsity: 0.9, scope: layer-wise}");
        var spelled = FromSpec("{method: Edge-Popup, sparsity: 0.9, scope: layerwise, popup_epochs: 10, anneal_epochs: 0, bias_ranking: SEPARATE, popup_lr: 0.1, popup_batch_size: 32}",
            "{epochs: 0, lr: 0.5, batch_size: 7}");
        Assert.Equal(plain.Id, spelled.Id);
        Assert.Equal(plain.ToJson(), spelled.ToJson());
        // The training recipe of a ticket that is not trained is irrelevant; the method options at their defaults stay out of the id.
        Assert.Equal(new TrainSettings(Epochs: 0), plain.Train);
        Assert.DoesNotContain("popup_", plain.ToJson());
        Assert.DoesNotContain("anneal_epochs", plain.ToJson());
        Assert.Equal(10, plain.Prune.MethodOptions.Integer(EdgePopupMethod.Epochs));
        // As for every method, options of another method are normalized away.
        Assert.Equal(FromSpec("{method: snip, sparsity: 0.9}").Id, FromSpec("{method: snip, sparsity: 0.9, popup_epochs: 3}").Id);

        var scaled = FromSpec("{method: edge-popup-scaled, sparsity: 0.9, scope: layer-wise}");
        var annealed = FromSpec("{method: edge-popup, sparsity: 0.9, scope: layer-wise, anneal_epochs: 5}");
        var joint = FromSpec("{method: edge-popup, sparsity: 0.9, scope: layer-wise, bias_ranking: joint}");
        Assert.Equal(4, new[] { plain.Id, scaled.Id, annealed.Id, joint.Id }.Distinct().Count());
        Assert.Contains("\"anneal_epochs\":5", annealed.ToJson());
        Assert.Contains("\"bias_ranking\":\"joint\"", joint.ToJson());
        Assert.Equal(annealed, RunConfig.FromJson(annealed.ToJson()));
        Assert.Equal(joint.Id, RunConfig.FromJson(joint.ToJson()).Id);

        // Trained afterwards (train.epochs > 0), the recipe matters again.
        var trained = FromSpec("{method: edge-popup, sparsity: 0.9}", "{epochs: 2, lr: 0.5}");
        Assert.Equal(0.5, trained.Train.Lr);
    }

    [Theory]
    [InlineData("{method: edge-popup, sparsity: 0.9, anneal_epochs: 11}", "anneal_epochs 11 is impossible with popup_epochs 10")]
    [InlineData("{method: edge-popup, sparsity: 0.9, bias_ranking: both}", "prune.bias_ranking = 'both' is unknown")]
    [InlineData("{method: edge-popup-scaled, sparsity: 0.9, rescale: eoc}", "rescale does not apply to edge-popup-scaled")]
    public void Impossible_edge_popup_specs_are_one_line_errors(string prune, string expected)
    {
        var e = Assert.Throws<InitPrune.Engine.InitPruneException>(() => FromSpec(prune));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    static RunConfig Run(bool scaled) => new(
        new DataSettings("ellipse", TrainSubset: 600, TestSubset: 300),
        new ModelSettings("mlp", 2, 16, "relu"),
        new InitSettings("slt-he"),
        new PruneSettings(scaled ? "edge-popup-scaled" : "edge-popup", 0.8, "layer-wise",
            Options: new MethodOptions([new("popup_epochs", 4), new("anneal_epochs", 2), new("popup_batch_size", 64)]).Complete(PrunerRegistry.Get(scaled ? "edge-popup-scaled" : "edge-popup"))),
        new TrainSettings(Lr: 0.05, Epochs: 1, BatchSize: 100),
        Seed: 4);

    static SweepInfo Info => new("t@full", "", "", new ReportLayout(), [], "");

    /// <summary>Computes the run, or stops it (an exception from the test hook) after edge-popup epoch <paramref name="stopAfter"/> and resumes it with a fresh executor.</summary>
    static (StoredRun Run, Dictionary<string, byte[]> Files) Compute(string dir, RunConfig c, int? stopAfter)
    {
        var folders = new SweepFolders(dir);
        using var store = SqliteResultsStore.Open(Path.Combine(dir, "store.sqlite"));
        using var data = new RunDataCache(null);
        store.Register(Info, [new SweepEntry(c, "t", new Dictionary<string, string> { ["label"] = "t" })]);
        var dead = new WorkerInfo("elsewhere", 1, 1);
        var claim = store.Claim(Info.Key, dead, SweepOptions.DefaultLease)!;
        if (stopAfter is { } k)
        {
            var stopping = new RunExecutor(store, folders, data) { TicketCheckpointed = e => { if (e == k) throw new Stop(); } };
            Assert.Throws<Stop>(() => stopping.Execute(claim, dead));
            Assert.True(File.Exists(folders.CheckpointOf(c.Id)));
            Assert.Equal(Enumerable.Range(1, k).Select(i => i - 4 - 1), store.Epochs(c.Id).Select(e => e.Epoch));
            Assert.Equal(k - 4 - 1, Assert.Single(store.Checkpoints(c.Id).TakeLast(1)).Epoch);
            var again = store.Claim(Info.Key, WorkerInfo.Current, TimeSpan.Zero)!;
            var resumed = new RunExecutor(store, folders, data).Execute(again, WorkerInfo.Current);
            Assert.True(resumed.Done, resumed.Error);
            Assert.True(resumed.Resumed);
            Assert.Equal($"edge-popup epoch {k + 1}", resumed.ResumedAt);
        }
        else
        {
            var outcome = new RunExecutor(store, folders, data).Execute(claim, dead);
            Assert.True(outcome.Done, outcome.Error);
        }
        Assert.False(File.Exists(folders.CheckpointOf(c.Id)));
        var run = Assert.Single(store.Load());
        var files = new[] { "final.safetensors", "mask.safetensors", "scores.safetensors" }
            .ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(folders.RunFolder(c.Id), f)));
        return (run, files);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_run_stopped_after_search_epoch_two_of_four_resumes_bit_for_bit(bool scaled)
    {
        var c = Run(scaled);
        using var a = new TempDir();
        using var b = new TempDir();
        var (straight, fa) = Compute(a.Path, c, null);
        var (resumed, fb) = Compute(b.Path, c, 2);

        // Search epochs −4 … −1 (kept fraction annealed ρ^(1/2), then ρ = 0.2), then the ticket's one training epoch.
        Assert.Equal([-4, -3, -2, -1, 1], straight.Epochs.Select(e => e.Epoch));
        Assert.Equal(Math.Sqrt(0.2), straight.Epochs[0].KeptFraction!.Value, 12);
        Assert.All(straight.Epochs.Skip(1).Take(3), e => Assert.Equal(0.2, e.KeptFraction!.Value, 12));
        Assert.Null(straight.Epochs[^1].KeptFraction);
        Assert.All(straight.Epochs.Take(4), e => Assert.True(scaled ? e.Lambda > 0 : e.Lambda == 1));
        Assert.Null(straight.Epochs[^1].Lambda);
        static object Figures(EpochMetrics e) => (e.Epoch, e.LearningRate, e.TrainLoss, e.TestLoss, e.TestAccuracy, e.KeptFraction, e.Lambda);
        Assert.Equal(straight.Epochs.Select(Figures), resumed.Epochs.Select(Figures));
        Assert.Equal(straight.Result!.TestAccuracy, resumed.Result!.TestAccuracy);
        Assert.Equal(1, straight.Result.Epochs);
        Assert.Equal(straight.Pruning!.Kept, resumed.Pruning!.Kept);
        Assert.Equal(2, resumed.Attempts);
        // Weights, mask (weights and biases) and scores: the same bytes.
        foreach (var (name, bytes) in fa) Assert.True(bytes.AsSpan().SequenceEqual(fb[name]), name);
        using var mask = Mask.Load(Path.Combine(new SweepFolders(a.Path).RunFolder(c.Id), "mask.safetensors"));
        Assert.Contains("layers.0.bias", mask.Tensors.Keys);
    }

    [Fact]
    public void Prune_with_method_edge_popup_writes_what_ticket_writes()
    {
        using var dir = new TempDir();
        string[] common = ["--dataset", "ellipse", "--model", "mlp", "--depth", "2", "--width", "16", "--init", "slt-he", "--sparsity", "0.9", "--seed", "3"];
        var ticket = CliRunner.Run(["ticket", .. common, "--epochs", "3", "--anneal-epochs", "1", "--scaled", "--bias-ranking", "joint", "--batch-size", "128", "--lr", "0.05",
            "--out", dir.File("ticket"), "--json"]);
        Assert.True(ticket.ExitCode == 0, ticket.Stderr);
        var prune = CliRunner.Run(["prune", .. common, "--method", "edge-popup-scaled", "--scope", "layer-wise", "--popup-epochs", "3", "--anneal-epochs", "1",
            "--bias-ranking", "joint", "--popup-batch-size", "128", "--popup-lr", "0.05", "--out", dir.File("prune"), "--json"]);
        Assert.True(prune.ExitCode == 0, prune.Stderr);
        Assert.Contains("epoch 3/3 ρ 0.1 λ", prune.Stderr);
        foreach (var f in new[] { "mask.safetensors", "weights.safetensors", "scores.safetensors" })
            Assert.True(File.ReadAllBytes(dir.File(Path.Combine("ticket", f))).AsSpan().SequenceEqual(File.ReadAllBytes(dir.File(Path.Combine("prune", f)))), f);
        using var t = JsonDocument.Parse(File.ReadAllText(dir.File("ticket/summary.json")));
        using var p = JsonDocument.Parse(File.ReadAllText(dir.File("prune/summary.json")));
        Assert.Equal(t.RootElement.GetProperty("final_test_loss").GetDouble(), p.RootElement.GetProperty("final_test_loss").GetDouble());
        Assert.Equal(t.RootElement.GetProperty("kept_weights").GetInt64() + t.RootElement.GetProperty("kept_biases").GetInt64(), prune.Json.GetProperty("kept").GetInt64());
        Assert.Equal("edge-popup-scaled", prune.Json.GetProperty("method").GetString());
    }

    [Theory]
    [InlineData("--lr 0.1", "--lr does nothing for method 'edge-popup'")]
    [InlineData("--popup-epochs 2 --anneal-epochs 3", "anneal_epochs 3 is impossible with popup_epochs 2")]
    [InlineData("--bias-ranking both", "--bias-ranking 'both' is unknown")]
    [InlineData("--rescale eoc", "rescale does not apply to edge-popup")]
    public void Bad_edge_popup_input_to_prune_is_one_line(string extra, string expected)
    {
        using var dir = new TempDir();
        var line = CliRunner.AssertOneLineError(CliRunner.Run([
            "prune", "--dataset", "ellipse", "--model", "mlp", "--depth", "1", "--width", "8", "--method", "edge-popup", "--sparsity", "0.5",
            .. extra.Split(' '), "--out", dir.File("o")]), exitCode: 2);
        Assert.Contains(expected, line);
    }

    /// <summary>
    /// Seed 004 Figure 1 (shifted ReLU) at the smoke scale, sweep then report: one series per method × init × bias, one
    /// column per kept fraction ρ = 1 − sparsity, each cell the mean of as many runs as seeds, and the log-log plot written.
    /// </summary>
    [Fact]
    public void The_figure_1_smoke_recipe_runs_and_reports_every_series()
    {
        using var dir = new TempDir();
        var recipe = Path.Combine(Repo.Root, "configs", "seed004-fig1-shifted-relu.yaml");
        var spec = SpecLoader.Load(recipe, "smoke", null);
        var outDir = dir.File("out");
        var sweep = CliRunner.Run("sweep", recipe, "--scale", "smoke", "--out", outDir, "--json");
        Assert.True(sweep.ExitCode == 0, sweep.Stderr);
        Assert.Equal(16, sweep.Json.GetProperty("done").GetInt32());
        var report = CliRunner.Run("report", recipe, "--scale", "smoke", "--store", Path.Combine(outDir, "store.sqlite"), "--artifacts", outDir, "--json");
        Assert.True(report.ExitCode == 0, report.Stderr);

        var folder = Path.Combine(outDir, "reports", "seed004-fig1-shifted-relu@smoke");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "report.json")));
        var tables = json.RootElement.GetProperty("tables").EnumerateArray().ToList();
        Assert.Equal(2, tables.Count);
        var table = tables[0];
        // The recipe's claims: at the smoke scale only the ρ = 0.2 one has runs.
        Assert.Equal("Claims of the seed against this sweep", tables[1].GetProperty("title").GetString());
        var verdicts = tables[1].GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("cells")[3].GetProperty("text").GetString()!).ToList();
        Assert.Equal(3, verdicts.Count);
        Assert.All(verdicts.Take(2), v => Assert.StartsWith("not measured", v));
        Assert.Contains(verdicts[2], new[] { "agree", "disagree" });
        Assert.Equal(["0.01", "0.2"], table.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        string[] expected = [.. from init in new[] { "slt-he", "looks-linear" } from bias in new[] { "true", "false" } from method in new[] { "edge-popup", "edge-popup-scaled" }
                                select $"{method} · {init} · zero_bias={bias}"];
        var rows = table.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(expected.Order(), rows.Select(r => r.GetProperty("label").GetString()!).Order());
        int seeds = spec.DistinctRuns.Select(r => r.Seed).Distinct().Count();
        foreach (var row in rows)
            foreach (var cell in row.GetProperty("cells").EnumerateArray())
            {
                Assert.Equal(seeds, cell.GetProperty("n").GetInt32());
                Assert.True(cell.GetProperty("mean").GetDouble() > 0);
            }
        // The cell equals the mean of the runs' stored test MSE (the last search epoch's).
        using var store = SqliteResultsStore.Open(Path.Combine(outDir, "store.sqlite"));
        var run = store.Load().First(r => r.Config.Prune.Method == "edge-popup-scaled" && r.Config.Init.Name == "slt-he" && !r.Config.Init.ZeroBias && r.Config.Prune.Sparsity == 0.8);
        Assert.Equal(run.Epochs[^1].TestLoss, run.Result!.TestLoss);
        var cellOf = rows.Single(r => r.GetProperty("label").GetString() == "edge-popup-scaled · slt-he · zero_bias=false").GetProperty("cells")[1];
        Assert.Equal(run.Result.TestLoss, cellOf.GetProperty("mean").GetDouble(), 12);
        Assert.True(new FileInfo(Path.Combine(folder, "test_loss_vs_kept_fraction.png")).Length > 1000);
    }
}
