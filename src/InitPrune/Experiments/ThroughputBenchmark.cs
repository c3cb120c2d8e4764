using System.Diagnostics;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Experiments;

/// <summary>Medians over repetitions of training throughput (samples/s), and the masked/bare ratio.</summary>
public sealed record ThroughputReport(
    string Model,
    int BatchSize,
    int BatchesPerRepetition,
    int Repetitions,
    double Sparsity,
    int Threads,
    double BareSamplesPerSecondMedian,
    double MaskedSamplesPerSecondMedian,
    double Ratio,
    IReadOnlyList<double> BareSamplesPerSecond,
    IReadOnlyList<double> MaskedSamplesPerSecond);

/// <summary>
/// Training throughput of LeNet-300-100 on Fashion-MNIST-shaped data (random 1×28×28 inputs, 10 classes):
/// the masked InitPrune trainer against a bare TorchSharp loop (nn.Sequential of Linear/ReLU, SGD) over the
/// same batches. Repetitions alternate the two (ABBA order, a full GC before each) so that noise hits both alike.
/// </summary>
public static class ThroughputBenchmark
{
    /// <summary>
    /// <c>initprune bench</c>: checks the settings, prepares <paramref name="outDir"/> (before any timing, so an unusable
    /// folder fails at once), runs the benchmark and writes <c>bench.json</c> there.
    /// </summary>
    public static ThroughputReport RunInto(string outDir, int batches = 300, int repetitions = 7, int batchSize = 100, double sparsity = 0.9, long seed = 0)
    {
        Check(batches, repetitions, batchSize, sparsity);
        var dir = Artifacts.PrepareOutput(outDir);
        var report = Run(batches, repetitions, batchSize, sparsity, seed);
        Artifacts.WriteJson(Path.Combine(dir, "bench.json"), report);
        return report;
    }

    static void Check(int batches, int repetitions, int batchSize, double sparsity)
    {
        if (batches < 1 || repetitions < 1 || batchSize < 1)
            throw new InitPruneException("--batches, --repetitions and --batch-size must be at least 1");
        MaskBuilder.CheckSparsity(sparsity);
    }

    public static ThroughputReport Run(int batches = 300, int repetitions = 7, int batchSize = 100, double sparsity = 0.9, long seed = 0)
    {
        Check(batches, repetitions, batchSize, sparsity);
        long n = (long)batches * batchSize;
        using var gen = new Generator((ulong)seed);
        var train = new Dataset("fashion-mnist-shaped", randn([n, 1, 28, 28], generator: gen), randint(0, 10, [n], generator: gen), TaskKind.Classification, 10);
        var test = train.Take(batchSize);
        var split = new DatasetSplit(train, test, "random tensors");
        var config = new TrainConfig(Epochs: 1, BatchSize: batchSize, LearningRate: 0.01, Momentum: 0.9, EvalBatchSize: batchSize);

        for (int w = 0; w < 2; w++)
        {
            Bare(split, config, seed);
            Masked(split, config, sparsity, seed);
        }
        var bare = new List<double>();
        var masked = new List<double>();
        for (int r = 0; r < repetitions; r++)
        {
            // Alternate which loop goes first (ABBA), each after a full collection, so order and GC hit both alike.
            if (r % 2 == 0)
            {
                Settle(); bare.Add(Bare(split, config, seed + r));
                Settle(); masked.Add(Masked(split, config, sparsity, seed + r));
            }
            else
            {
                Settle(); masked.Add(Masked(split, config, sparsity, seed + r));
                Settle(); bare.Add(Bare(split, config, seed + r));
            }
        }
        train.Dispose();
        double b = Median(bare), m = Median(masked);
        return new ThroughputReport("lenet300 (784-300-100-10)", batchSize, batches, repetitions, sparsity, get_num_threads(), b, m, m / b, bare, masked);
    }

    /// <summary>The baseline: the plainest TorchSharp loop over the same shuffled batches.</summary>
    static double Bare(DatasetSplit data, TrainConfig c, long seed)
    {
        using var model = nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10)).to(Compute.Device);
        using var opt = new Sgd([.. model.parameters()], c.Momentum, 0, false);
        var loader = new DataLoader(data.Train, c.BatchSize, shuffle: true, seed: seed);
        long seen = 0;
        var clock = Stopwatch.StartNew();
        foreach (var (x, y) in loader.Epoch(1))
        {
            using var batchX = x;
            using var batchY = y;
            using var scope = NewDisposeScope();
            model.zero_grad();
            var loss = nn.functional.cross_entropy(model.forward(x.flatten(1)), y);
            loss.backward();
            opt.Step(c.LearningRate);
            seen += x.shape[0];
        }
        return seen / clock.Elapsed.TotalSeconds;
    }

    /// <summary>InitPrune's path: masked LeNet pruned at random to the sparsity, trained by <see cref="Trainer"/>.</summary>
    static double Masked(DatasetSplit data, TrainConfig c, double sparsity, long seed)
    {
        using var model = ModelRegistry.Create(new ModelSpec("lenet300"), 784, 10);
        Initializers.Apply(model, new InitSpec(), seed);
        using var pruned = Pruner.Prune(model, new PruneSpec("random", sparsity), new ScoringContext(null, null, TaskKind.Classification, seed));
        var metrics = new Trainer(c).Train(model, data, seed);
        return metrics[0].SamplesPerSecond;
    }

    static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
