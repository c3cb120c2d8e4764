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

/// <summary>Seconds to score and mask one model with one method, beside one training step of the same model.</summary>
public sealed record ScoringTiming(string Model, string Method, double ScoringSeconds, double TrainStepSeconds, double Ratio);

/// <summary>
/// Scoring time of every one-shot method for CIFAR-shaped models (batch of random 3×32×32 inputs, 10 classes),
/// each beside the median time of one SGD step of the same model on the same batch.
/// </summary>
public static class ScoringBenchmark
{
    public static readonly IReadOnlyList<string> DefaultModels = ["vgg16", "resnet32"];
    public static readonly IReadOnlyList<string> DefaultMethods = ["random", "magnitude", "snip", "grasp", "synflow", "sbp-sr", "grasp-sr"];

    /// <summary>The methods Synaptic-Flow's reference has, timed beside PyTorch by <see cref="PyTorchScoring"/>.</summary>
    public static readonly IReadOnlyList<string> ReferenceMethods = ["random", "magnitude", "snip", "grasp", "synflow"];

    /// <summary>The sparsity every method prunes to.</summary>
    public const double Sparsity = 0.9;

    /// <summary><c>initprune bench --scoring</c>: prepares <paramref name="outDir"/> first, times every method and writes <c>scoring.json</c> there.</summary>
    public static List<ScoringTiming> RunInto(string outDir, int synflowIterations = 100, long seed = 0, Action<ScoringTiming>? progress = null,
        IReadOnlyList<string>? models = null)
    {
        var dir = Artifacts.PrepareOutput(outDir);
        var timings = Run(models, synflowIterations: synflowIterations, seed: seed, progress: progress);
        Artifacts.WriteJson(Path.Combine(dir, "scoring.json"), timings);
        return timings;
    }

    public static List<ScoringTiming> Run(IReadOnlyList<string>? models = null, IReadOnlyList<string>? methods = null, int batchSize = 128,
        int synflowIterations = 100, long seed = 0, Action<ScoringTiming>? progress = null)
    {
        using var batch = Batch(batchSize, seed);
        var (x, y) = batch;
        var results = new List<ScoringTiming>();
        foreach (var name in models ?? DefaultModels)
        {
            double step = TrainStep(name, x, y, seed);
            foreach (var method in methods ?? DefaultMethods)
            {
                bool stable = method.EndsWith("-sr", StringComparison.Ordinal);
                if (stable && !name.StartsWith("resnet", StringComparison.Ordinal)) continue;
                using var model = Build(new ModelSpec(name, Stable: stable), seed);
                double seconds = PruneSeconds(model, method, synflowIterations, x, y, seed, out _);
                var t = new ScoringTiming(name, method, seconds, step, seconds / step);
                results.Add(t);
                progress?.Invoke(t);
            }
        }
        return results;
    }

    /// <summary>The benchmark's batch: <paramref name="batchSize"/> N(0, 1) inputs of 3×32×32 and labels in 0..9, drawn from <paramref name="seed"/>.</summary>
    internal static TensorBatch Batch(int batchSize, long seed)
    {
        if (batchSize < 1) throw new InitPruneException($"--batch-size {batchSize} is impossible: use at least 1");
        using var gen = new Generator((ulong)seed);
        using var x = randn([batchSize, 3, 32, 32], generator: gen);
        using var y = randint(0, 10, [batchSize], generator: gen);
        return new TensorBatch(x.to(Compute.Device), y.to(Compute.Device));
    }

    /// <summary>Seconds of one <see cref="Pruner.Prune"/> (scores, global mask, applied) of <paramref name="model"/>; <paramref name="kept"/> is the mask's count.</summary>
    internal static double PruneSeconds(nn.Module<Tensor, Tensor> model, string method, int synflowIterations, Tensor x, Tensor y, long seed, out long kept)
    {
        var spec = Spec(method, synflowIterations);
        long start = Stopwatch.GetTimestamp();
        using var result = Pruner.Prune(model, spec, new ScoringContext(x, y, TaskKind.Classification, seed));
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        kept = result.Mask.Kept;
        return seconds;
    }

    /// <summary>
    /// The prune spec timed for <paramref name="method"/>: 90% sparsity; <paramref name="synflowIterations"/> is
    /// SynFlow's (SNIP and GraSP have a multi-shot option of the same name, which stays 1 here).
    /// </summary>
    internal static PruneSpec Spec(string method, int synflowIterations) =>
        new(method, Sparsity, Options: method == "synflow" ? MethodOptions.Default.With(SynFlowScorer.Iterations, synflowIterations) : MethodOptions.Default);

    internal static nn.Module<Tensor, Tensor> Build(ModelSpec spec, long seed)
    {
        var model = ModelRegistry.Create(spec, [3, 32, 32], 10);
        Initializers.Apply(model, new InitSpec("kaiming-normal"), seed);
        return model;
    }

    /// <summary>Median of 3 SGD steps (forward, cross-entropy, backward, update) after one warm-up step.</summary>
    static double TrainStep(string name, Tensor x, Tensor y, long seed)
    {
        using var model = Build(new ModelSpec(name), seed);
        using var opt = new Sgd([.. model.parameters()], 0.9, 0, false);
        var times = new List<double>();
        for (int i = 0; i < 4; i++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            model.zero_grad();
            Trainer.Loss(model.forward(x), y, TaskKind.Classification).backward();
            opt.Step(0.01);
            if (i > 0) times.Add(clock.Elapsed.TotalSeconds);
        }
        return times.Order().ElementAt(1);
    }
}

/// <summary>The benchmark's inputs and labels, owned.</summary>
internal sealed class TensorBatch(Tensor x, Tensor y) : IDisposable
{
    public void Deconstruct(out Tensor inputs, out Tensor labels) => (inputs, labels) = (x, y);

    public void Dispose()
    {
        x.Dispose();
        y.Dispose();
    }
}
