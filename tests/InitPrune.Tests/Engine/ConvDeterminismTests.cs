using InitPrune.Data;
using InitPrune.Experiments;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using InitPrune.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Engine;

/// <summary>A small CIFAR-10 folder in the official binary format, with random pixels and labels.</summary>
public sealed class RandomCifar10 : IDisposable
{
    readonly TempDir dir = new();

    public RandomCifar10()
    {
        var rng = new Random(7);
        var folder = dir.Sub("cifar-10-batches-bin");
        byte[] Records(int n)
        {
            var bytes = new byte[n * 3073];
            rng.NextBytes(bytes);
            for (int r = 0; r < n; r++) bytes[r * 3073] = (byte)rng.Next(10);
            return bytes;
        }
        for (int b = 1; b <= 5; b++) File.WriteAllBytes(System.IO.Path.Combine(folder, $"data_batch_{b}.bin"), Records(8));
        File.WriteAllBytes(System.IO.Path.Combine(folder, "test_batch.bin"), Records(16));
    }

    public string Path => dir.Path;

    public void Dispose() => dir.Dispose();
}

/// <summary>
/// Issue 9 §1: the same conv prune and training steps give bit-identical masks, losses and weights, twice in one
/// process and in two processes, at the models' real widths (oneDNN's AVX-512 convolutions did not on some CPUs).
/// </summary>
public class ConvDeterminismTests(RandomCifar10 cifar) : IClassFixture<RandomCifar10>
{
    public static TheoryData<string, int, int> Models => new()
    {
        { "vcnn", 5, 64 },
        { "vgg11-bn", 0, 0 },
        { "resnet20", 0, 0 },
    };

    sealed record Outcome(byte[] Mask, double[] Losses, byte[] Weights);

    static byte[] Bytes(IEnumerable<Tensor> tensors) =>
        [.. tensors.SelectMany(t => { using var c = t.detach().contiguous().cpu(); return c.bytes.ToArray(); })];

    Outcome PruneAndTrain(string model, int depth, int width)
    {
        using var data = DatasetRegistry.Load("cifar10", cifar.Path);
        var spec = new ModelSpec(model, Depth: depth == 0 ? 2 : depth, Width: width == 0 ? 100 : width);
        using var net = Setup.Model(data, spec, new InitSpec("kaiming-normal"), seed: 3);
        var (x, y) = Setup.ScoringBatch(data.Train, 32, seed: 3);
        using (x)
        using (y)
        using (var pruned = Pruner.Prune(net, new PruneSpec("snip", 0.5), new ScoringContext(x, y, data.Train.Kind, Seed: 3)))
        {
            var mask = Bytes(pruned.Mask.Tensors.OrderBy(kv => kv.Key).Select(kv => kv.Value));
            var losses = new List<double>();
            var trainer = new Trainer(new TrainConfig(Epochs: 1, BatchSize: 16, LearningRate: 0.01));
            trainer.Step += s => losses.Add(s.Loss);
            trainer.Train(net, data, seed: 3);
            return new Outcome(mask, [.. losses], Bytes(Network.StateDict(net).OrderBy(kv => kv.Key).Select(kv => kv.Value)));
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Pruning_and_training_twice_in_one_process_is_bit_identical(string model, int depth, int width)
    {
        var first = PruneAndTrain(model, depth, width);
        var second = PruneAndTrain(model, depth, width);
        Assert.Equal(3, first.Losses.Length);
        Assert.All(first.Losses, l => Assert.True(double.IsFinite(l)));
        Assert.Equal(first.Mask, second.Mask);
        Assert.Equal(first.Losses, second.Losses);
        Assert.Equal(first.Weights, second.Weights);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Pruning_and_training_in_two_processes_is_bit_identical(string model, int depth, int width)
    {
        using var outDir = new TempDir();
        string[] ModelArgs() => depth == 0
            ? ["--dataset", "cifar10", "--data-dir", cifar.Path, "--model", model, "--init", "kaiming-normal", "--seed", "3"]
            : ["--dataset", "cifar10", "--data-dir", cifar.Path, "--model", model, "--depth", $"{depth}", "--width", $"{width}", "--init", "kaiming-normal", "--seed", "3"];
        (byte[] Mask, byte[] Weights, string Losses) Run(string name)
        {
            var dir = Path.Combine(outDir.Path, name);
            var prune = CliRunner.Run(["prune", .. ModelArgs(), "--method", "snip", "--sparsity", "0.5", "--score-batch-size", "32", "--out", dir, "--json"]);
            Assert.True(prune.ExitCode == 0, prune.Stderr);
            var train = CliRunner.Run(["train", .. ModelArgs(), "--mask", Path.Combine(dir, "mask.safetensors"), "--epochs", "1", "--batch-size", "16",
                "--lr", "0.01", "--out", Path.Combine(dir, "train"), "--json"]);
            Assert.True(train.ExitCode == 0, train.Stderr);
            var losses = string.Join(",", train.Json.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("train_loss").GetDouble().ToString("R")));
            return (File.ReadAllBytes(Path.Combine(dir, "mask.safetensors")), File.ReadAllBytes(Path.Combine(dir, "train", "final.safetensors")), losses);
        }
        var first = Run("first");
        var second = Run("second");
        Assert.Equal(first.Mask, second.Mask);
        Assert.Equal(first.Losses, second.Losses);
        Assert.Equal(first.Weights, second.Weights);
    }
}
