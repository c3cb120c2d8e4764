using System.Text.Json;
using System.Text.Json.Nodes;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Inference;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Reporting;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using SkiaSharp;
using static InitPrune.Tests.Reporting.ReportRuns;
using static TorchSharp.torch;

namespace InitPrune.Tests.Reporting;

/// <summary>
/// <c>report --latency</c>: each done run's sparse network (export's, in memory) timed against its dense masked
/// forward pass. Nothing is asserted about the times beyond being positive and finite; the sparse network's logits are
/// checked against the dense masked TorchSharp network, which the tests rebuild on their own.
/// </summary>
public sealed class LatencyReportTests : IDisposable
{
    readonly TempDir tmp = new();

    public void Dispose() => tmp.Dispose();

    // ReportRuns' runs: fashion-mnist (1 × 28 × 28, 10 classes), mlp depth 2 width 100.
    static readonly long[] Shape = [1, 28, 28];

    /// <summary>
    /// Writes a run's final weights (kaiming-normal, seed <paramref name="seed"/>; BatchNorm running statistics drawn at
    /// random, so folding them changes the weights) and, for a sparsity above 0, a random layerwise mask of its weights, as RunExecutor does.
    /// </summary>
    static void WriteArtefacts(StoredRun run, string root, double sparsity, long seed)
    {
        var folders = new SweepFolders(root);
        Directory.CreateDirectory(folders.RunFolder(run.Id));
        using var model = ModelRegistry.Create(run.Config.ToModelSpec(), Shape, 10);
        Initializers.Apply(model, new InitSpec("kaiming-normal"), seed);
        using (var statistics = new Generator((ulong)seed + 2))
        using (no_grad())
        {
            foreach (var (key, t) in Network.FullStateDict(model))
            {
                using var draw = key.EndsWith("running_var", StringComparison.Ordinal) ? rand(t.shape, generator: statistics).add_(0.5)
                    : key.EndsWith("running_mean", StringComparison.Ordinal) ? randn(t.shape, generator: statistics).mul_(0.1) : null;
                if (draw is not null) t.copy_(draw);
            }
        }
        if (sparsity > 0)
        {
            using var gen = new Generator((ulong)seed + 1);
            var masks = new TensorDict();
            foreach (var p in Network.Prunable(model))
            {
                using var draw = rand(p.Value.shape, generator: gen);
                masks.Add(p.Name, draw.ge(sparsity));
            }
            using var mask = new Mask(masks);
            mask.ApplyTo(model);
            mask.Save(Path.Combine(folders.RunFolder(run.Id), "mask.safetensors"));
        }
        Safetensors.Save(folders.FinalWeightsOf(run.Id), Network.FullStateDict(model));
    }

    static StoredRun WithId(StoredRun run, string id) => run with { Id = id };

    [Fact]
    public void The_report_times_each_run_with_artefacts_and_lists_the_others_as_not_measured()
    {
        var root = tmp.Sub("artifacts");
        var sparse = WithId(Run("SNIP", 0.9, 0, 0.80), "00000000000000a1");
        var dense = WithId(AlsoUnder(Run("SNIP", 0, 0, 0.91), "Random"), "00000000000000a2");
        var other = WithId(Run("Random", 0.5, 0, 0.85), "00000000000000a3");
        var missing = WithId(Run("SNIP", 0.5, 0, 0.90), "00000000000000a4");
        WriteArtefacts(sparse, root, 0.9, 1);
        WriteArtefacts(dense, root, 0, 2);
        WriteArtefacts(other, root, 0.5, 3);
        List<StoredRun> runs = [sparse, dense, other, missing];

        var latency = RunLatencyBench.Measure(runs, root, new LatencySettings(true, LatencyBatch: 4, LatencyThreads: 1));
        var outDir = tmp.Sub("report");
        var (_, files, _) = SweepReport.Write(Sweep(), runs, outDir, latency);

        Assert.Equal((1, 4), (latency.Threads, latency.Batch));
        Assert.Equal(["00000000000000a1", "00000000000000a2", "00000000000000a3"], latency.Runs.Where(r => r.Measured).Select(r => r.Id));
        foreach (var r in latency.Runs.Where(r => r.Measured))
        {
            Assert.True(r.SparseSeconds is > 0 and < double.PositiveInfinity && r.DenseSeconds is > 0 and < double.PositiveInfinity, r.Id);
            Assert.Equal(4, r.Samples);
            Assert.Equal(4, r.PredictionsAgreeing);
            Assert.True(r.MaxLogitDiff < 1e-4, $"{r.Id}: {r.MaxLogitDiff}");
        }
        Assert.Contains("no final weights", latency.Runs.Single(r => r.Id == missing.Id).NotMeasured);

        var md = File.ReadAllText(files.Markdown);
        Assert.Contains("## Measured latency per forward pass, batch 4, 1 thread: sparse / dense (mean over the cell's runs), speed-up dense ÷ sparse", md);
        Assert.Matches(@"\| SNIP \| [0-9.]+ (µs|ms) / [0-9.]+ (µs|ms), [0-9.]+× \| — \| [0-9.]+ (µs|ms) / [0-9.]+ (µs|ms), [0-9.]+× \|", md);
        Assert.Contains("Latency measured at report time", md);
        Assert.Contains("**Latency not measured:**", md);
        Assert.Contains("- 00000000000000a4 (mlp): no final weights", md);
        Assert.DoesNotContain("disagree", md, StringComparison.Ordinal);
        Assert.Contains("(accuracy_vs_sparse_latency.png)", md);
        var png = Path.Combine(outDir, "accuracy_vs_sparse_latency.png");
        Assert.Contains(png, files.Images);
        Assert.Contains(Path.Combine(outDir, "accuracy_vs_sparse_latency.svg"), files.Images);
        using (var bmp = SKBitmap.Decode(png)) Assert.Equal((800, 500), (bmp.Width, bmp.Height));
        var html = File.ReadAllText(files.Html);
        Assert.Contains("Measured latency per forward pass", html);
        Assert.Contains("Latency not measured", html);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        var l = json.RootElement.GetProperty("latency");
        Assert.Single(l.GetProperty("tables").EnumerateArray());
        var measuredRuns = l.GetProperty("runs").EnumerateArray().Where(r => r.TryGetProperty("sparse_seconds", out _)).ToList();
        Assert.Equal(3, measuredRuns.Count);
        Assert.All(measuredRuns, r => Assert.True(r.GetProperty("speedup").GetDouble() > 0));
    }

    [Fact]
    public void The_sparse_network_timed_is_the_exported_one_and_predicts_as_the_dense_masked_network()
    {
        var root = tmp.Sub("artifacts");
        var run = WithId(Run("SNIP", 0.9, 0, 0.80), "00000000000000b1");
        WriteArtefacts(run, root, 0.9, 7);
        var folders = new SweepFolders(root);
        var export = SparseExport.Export(new SparseExportRequest(folders.FinalWeightsOf(run.Id), Path.Combine(folders.RunFolder(run.Id), "mask.safetensors"), InputShape: Shape));
        var file = SparseFile.Load(export.File);
        const int Batch = 16;
        var inputs = RunLatencyBench.Inputs(Batch, 784);

        // The dense masked network, rebuilt here from the run's settings, weights and mask.
        using var model = ModelRegistry.Create(run.Config.ToModelSpec(), Shape, 10);
        using (var final = Safetensors.Load(folders.FinalWeightsOf(run.Id))) Network.LoadStateDict(model, final, "final.safetensors");
        using (var mask = Mask.Load(Path.Combine(folders.RunFolder(run.Id), "mask.safetensors"))) mask.ApplyTo(model);
        model.eval();
        long[] densePredictions;
        using (var scope = NewDisposeScope())
        using (no_grad())
            densePredictions = model.forward(tensor(inputs, [Batch, .. Shape])).argmax(1).data<long>().ToArray();
        var logits = file.Forward(inputs, Batch);
        var sparsePredictions = Enumerable.Range(0, Batch).Select(i => (long)Enumerable.Range(0, 10).MaxBy(c => logits[i * 10 + c])).ToArray();
        Assert.Equal(densePredictions, sparsePredictions);

        var measured = Assert.Single(RunLatencyBench.Measure([run], root, new LatencySettings(true, Batch)).Runs);
        Assert.Equal((Batch, Batch), (measured.Samples, measured.PredictionsAgreeing));
        Assert.Equal(file.StoredParameters, measured.StoredParameters);
    }

    [Fact]
    public void The_agreement_check_counts_differing_predictions_and_the_relative_logit_difference()
    {
        // Two samples of two classes: the second sample's prediction flips; the largest difference 3 is relative to max(1, 3).
        Assert.Equal((1, 1.0), RunLatencyBench.Compare([1, 2, 3, 0], [1, 2, 0, 3], 2));
        // Below a logit scale of 1 the difference is absolute.
        Assert.Equal((1, 0.25), RunLatencyBench.Compare([0.5f], [0.25f], 1));
        Assert.Equal("--latency-batch 0 is impossible: use at least 1",
            Assert.Throws<InitPruneException>(() => RunLatencyBench.Measure([], tmp.Path, new LatencySettings(true, LatencyBatch: 0))).Message);
    }

    public static TheoryData<string, bool, string, string> ConvModels => new()
    {
        { "vgg11-bn", false, "B", "zeros" },
        // Conv-2: convolutions, then the flattened features through the linear head.
        { "conv2", false, "B", "circular" },
        // A Stable ResNet with shortcut A: the run's settings must reach the export (the weights show neither the 1/√B scale nor option A).
        { "resnet20", true, "A", "zeros" },
    };

    [Theory]
    [MemberData(nameof(ConvModels))]
    public void A_conv_net_with_batchnorm_is_timed_through_the_folded_sparse_network_and_predicts_as_the_dense_one(string model, bool stable, string shortcut, string padding)
    {
        var root = tmp.Sub("artifacts");
        var run = WithId(Run("SNIP", 0.9, 0, 0.80), "00000000000000c1");
        run = run with { Config = run.Config with { Model = new ModelSettings(model, Padding: padding, WidthMultiplier: 0.125, Stable: stable, Shortcut: shortcut) } };
        WriteArtefacts(run, root, 0.9, 5);

        var measured = Assert.Single(RunLatencyBench.Measure([run], root, new LatencySettings(true, LatencyBatch: 8)).Runs);

        Assert.True(measured.Measured, measured.NotMeasured);
        Assert.Equal((8, 8), (measured.Samples, measured.PredictionsAgreeing));
        Assert.True(measured.MaxLogitDiff < 1e-4, $"{measured.MaxLogitDiff}");
        Assert.True(measured.SparseSeconds is > 0 and < double.PositiveInfinity && measured.DenseSeconds is > 0 and < double.PositiveInfinity);
    }

    [Fact]
    public void A_tiny_sweeps_report_with_latency_adds_the_section_and_without_it_is_unchanged()
    {
        var (spec, outDir) = TinySweep(tmp, "latency-test");
        string[] Args(string report, params string[] more) => ["report", spec, "--store", Path.Combine(outDir, "store.sqlite"), "--artifacts", outDir, "--out", tmp.File(report), .. more];

        var plain = CliRunner.Run(Args("plain"));
        Assert.Equal(0, plain.ExitCode);
        var timed = CliRunner.Run(Args("timed", "--latency", "--latency-batch", "8", "--json"));
        Assert.True(timed.ExitCode == 0, timed.Stderr);

        var runs = timed.Json[0].GetProperty("latency").GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(2, runs.Count);
        Assert.All(runs, r =>
        {
            Assert.True(double.IsFinite(r.GetProperty("sparse_seconds").GetDouble()) && r.GetProperty("sparse_seconds").GetDouble() > 0);
            Assert.True(double.IsFinite(r.GetProperty("dense_seconds").GetDouble()) && r.GetProperty("dense_seconds").GetDouble() > 0);
            Assert.Equal(8, r.GetProperty("predictions_agreeing").GetInt32());
        });
        Assert.False(CliRunner.Run(Args("plain2", "--json")).Json[0].TryGetProperty("latency", out _));

        // Without --latency nothing is measured: the plain report is the timed one without its latency parts.
        var plainMd = File.ReadAllLines(tmp.File("plain/report.md"));
        var timedMd = File.ReadAllLines(tmp.File("timed/report.md"));
        Assert.Contains(timedMd, l => l.StartsWith("Measured latency (--latency) follows", StringComparison.Ordinal));
        Assert.DoesNotContain(plainMd, l => l.Contains("Measured latency", StringComparison.Ordinal) || l.Contains("µs", StringComparison.Ordinal));
        Assert.Contains(plainMd, l => l.StartsWith("Latency is not part of the report", StringComparison.Ordinal) && l.Contains("--latency", StringComparison.Ordinal));
        var rest = plainMd.Where(l => !l.StartsWith("Latency is not part of the report", StringComparison.Ordinal)).ToList();
        int at = 0;
        foreach (var line in timedMd) if (at < rest.Count && line == rest[at]) at++;
        Assert.True(at == rest.Count, $"report.md without --latency has a line the timed report lacks: {(at < rest.Count ? rest[at] : "")}");
        Assert.Equal(File.ReadAllText(tmp.File("plain/report.csv")), File.ReadAllText(tmp.File("timed/report.csv")));
        var plainJson = JsonNode.Parse(File.ReadAllText(tmp.File("plain/report.json")))!.AsObject();
        var timedJson = JsonNode.Parse(File.ReadAllText(tmp.File("timed/report.json")))!.AsObject();
        Assert.False(plainJson.ContainsKey("latency"));
        Assert.True(JsonNode.DeepEquals(plainJson["tables"], timedJson["tables"]) && JsonNode.DeepEquals(plainJson["flops"], timedJson["flops"]));
        foreach (var png in Directory.GetFiles(tmp.File("plain"), "*.png"))
            Assert.Equal(File.ReadAllBytes(png), File.ReadAllBytes(Path.Combine(tmp.File("timed"), Path.GetFileName(png))));

        // A run without its final weights is listed, not dropped.
        var gone = runs[0].GetProperty("id").GetString()!;
        File.Delete(Path.Combine(outDir, "runs", gone, "final.safetensors"));
        Assert.Equal(0, CliRunner.Run(Args("partial", "--latency")).ExitCode);
        Assert.Contains($"- {gone} (mlp): no final weights", File.ReadAllText(tmp.File("partial/report.md")));

        Assert.Contains("--latency-batch 0 is impossible", CliRunner.AssertOneLineError(CliRunner.Run(Args("bad", "--latency", "--latency-batch", "0"))));
        Assert.Contains("--latency-threads does nothing without --latency", CliRunner.AssertOneLineError(CliRunner.Run(Args("bad", "--latency-threads", "2"))));
    }
}
