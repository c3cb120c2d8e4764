using InitPrune.Data;
using InitPrune.Experiments.Sweeps;
using InitPrune.Inference;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using TorchSharp;

namespace InitPrune.Tests.Inference;

/// <summary><c>export --run</c>: a sweep run's final weights and mask, found through the store, become a sparse model infer runs.</summary>
public class SparseRunExportTests
{
    [Fact]
    public void A_sweep_run_exports_by_id_prefix_and_infers_as_the_dense_masked_network()
    {
        using var dir = new TempDir();
        var config = new RunConfig(
            new DataSettings("ellipse"),
            new ModelSettings("mlp", 2, 64, "tanh"),
            new InitSettings("normal", 1.2, 0.1),
            new PruneSettings("snip", 0.97),
            new TrainSettings(Lr: 0.05, Epochs: 1, BatchSize: 50),
            Seed: 1);
        var info = new SweepInfo("t@full", "", "", new ReportLayout(), [], "");
        var store = Path.Combine(dir.Path, "store.sqlite");
        using (var s = SqliteResultsStore.Open(store))
        using (var data = new RunDataCache(null))
        {
            s.Register(info, [new SweepEntry(config, "test", new Dictionary<string, string> { ["label"] = "test" })]);
            var claim = s.Claim(info.Key, WorkerInfo.Current, SweepOptions.DefaultLease)!;
            Assert.True(new RunExecutor(s, new SweepFolders(dir.Path), data).Execute(claim, WorkerInfo.Current).Done);
        }

        var export = CliRunner.Run("export", store, "--run", config.Id[..8], "--artifacts", dir.Path, "--json");
        Assert.True(export.ExitCode == 0, export.Stderr);
        var file = export.Json.GetProperty("file").GetString()!;
        Assert.Equal(Path.Combine(dir.Path, "runs", config.Id, "model.sparse.safetensors"), file);
        var sparse = SparseModel.Load(file);
        Assert.Equal(config.Id, sparse.Source["run"]);
        Assert.Equal("tanh", sparse.Activation);

        var infer = CliRunner.Run("infer", "--model", file, "--dataset", "ellipse", "--json", "--out", dir.Sub("infer"));
        Assert.True(infer.ExitCode == 0, infer.Stderr);
        using var split = DatasetRegistry.Load("ellipse");
        using var model = ModelRegistry.Create(config.Model.ToSpec(), split.Train.SampleShape, split.Train.NumClasses);
        using (var final = Safetensors.Load(Path.Combine(dir.Path, "runs", config.Id, "final.safetensors")))
            Network.LoadStateDict(model, final, "final.safetensors");
        using var _ = torch.no_grad();
        model.eval();
        using var predictions = model.forward(split.Test.Inputs).argmax(1);
        using var saved = Safetensors.Load(Path.Combine(dir.Path, "infer", "predictions.safetensors"));
        Assert.Equal(predictions.data<long>().ToArray(), saved["predictions"].data<long>().ToArray());

        Assert.Contains("no run", CliRunner.AssertOneLineError(CliRunner.Run("export", store, "--run", "ffffffffffffffff", "--artifacts", dir.Path)));
        Assert.Contains("--run takes", CliRunner.AssertOneLineError(CliRunner.Run("export", store, "--run", config.Id, "--model", "lenet300")));
    }

    /// <summary>A done one-epoch run of <paramref name="model"/> (SNIP 90%) in a fresh store under <paramref name="dir"/>.</summary>
    static (string Store, RunConfig Config) DoneRun(TempDir dir, ModelSettings model)
    {
        var config = new RunConfig(
            new DataSettings("fashion-mnist", TrainSubset: 200, TestSubset: 50),
            model,
            new InitSettings("normal", 1.4, 0.0),
            new PruneSettings("snip", 0.9),
            new TrainSettings(Lr: 0.05, Epochs: 1, BatchSize: 50),
            Seed: 1);
        var info = new SweepInfo("r@full", "", "", new ReportLayout(), [], "");
        var store = Path.Combine(dir.Path, "store.sqlite");
        using (var s = SqliteResultsStore.Open(store))
        using (var data = new RunDataCache("/usr/share/datasets/fashion-mnist"))
        {
            s.Register(info, [new SweepEntry(config, "test", new Dictionary<string, string> { ["label"] = "test" })]);
            var claim = s.Claim(info.Key, WorkerInfo.Current, SweepOptions.DefaultLease)!;
            Assert.True(new RunExecutor(s, new SweepFolders(dir.Path), data).Execute(claim, WorkerInfo.Current).Done);
        }
        return (store, config);
    }

    /// <summary>The run's dense network (final weights, eval mode) and <paramref name="sparse"/> give the same logits within 1e-4.</summary>
    static void AssertDenseLogits(TempDir dir, RunConfig config, ISparseNetwork sparse)
    {
        using var model = ModelRegistry.Create(config.Model.ToSpec(), [1, 28, 28], 10);
        using (var final = Safetensors.Load(Path.Combine(dir.Path, "runs", config.Id, "final.safetensors")))
            Network.LoadStateDict(model, final, "final.safetensors");
        using var _ = torch.no_grad();
        model.eval();
        using var x = torch.randn([3, 1, 28, 28], generator: new torch.Generator(5));
        using var dense = model.forward(x);
        var expected = dense.data<float>().ToArray();
        var got = sparse.Forward(x.data<float>().ToArray(), 3);
        double scale = Math.Max(1, expected.Max(MathF.Abs));
        Assert.All(Enumerable.Range(0, expected.Length), i => Assert.True(Math.Abs(expected[i] - got[i]) <= 1e-4 * scale, $"logit {i}: {expected[i]} vs {got[i]}"));
    }

    /// <summary>A Stable ResNet run with shortcut A: export --run takes both settings from the run (the weights show neither the scale nor, alone, the shortcut).</summary>
    [Fact]
    public void A_stable_resnet_run_exports_with_its_settings_and_computes_the_dense_logits()
    {
        using var dir = new TempDir();
        var (store, config) = DoneRun(dir, new ModelSettings("resnet20", WidthMultiplier: 0.25, Stable: true, Shortcut: "A"));

        var export = CliRunner.Run("export", store, "--run", config.Id, "--artifacts", dir.Path, "--json");
        Assert.True(export.ExitCode == 0, export.Stderr);
        var sparse = Assert.IsType<SparseResNet>(SparseFile.Load(export.Json.GetProperty("file").GetString()!));
        Assert.Equal(1 / 3.0, sparse.BranchScale, 12);
        Assert.Equal(["a", "a"], sparse.Blocks.Select(b => b.Shortcut).Where(k => k != "identity"));
        AssertDenseLogits(dir, config, sparse);
        Assert.Contains("--stable", CliRunner.AssertOneLineError(CliRunner.Run("export", store, "--run", config.Id, "--stable")));
    }

    /// <summary>A circular-padded Conv-2 run: export --run takes the padding and the dataset's sample shape from the run.</summary>
    [Fact]
    public void A_conv2_run_exports_with_its_settings_and_computes_the_dense_logits()
    {
        using var dir = new TempDir();
        var (store, config) = DoneRun(dir, new ModelSettings("conv2", Padding: "circular", WidthMultiplier: 0.125));

        var export = CliRunner.Run("export", store, "--run", config.Id, "--artifacts", dir.Path, "--json");
        Assert.True(export.ExitCode == 0, export.Stderr);
        var sparse = Assert.IsType<SparseConvHeadNet>(SparseFile.Load(export.Json.GetProperty("file").GetString()!));
        Assert.All(sparse.Convs, c => Assert.Equal("circular", c.PaddingMode));
        Assert.Equal([1L, 28, 28], sparse.InputShape);
        AssertDenseLogits(dir, config, sparse);
    }
}
