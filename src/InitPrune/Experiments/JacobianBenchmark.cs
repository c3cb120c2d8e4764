using System.Diagnostics;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Theory.Jacobian;
using InitPrune.Training;
using static TorchSharp.torch;

namespace InitPrune.Experiments;

/// <summary>
/// Median seconds of one ‖J‖ estimate (hidden span, one input, float32 as trained, tolerance 1e-4) beside one SGD step
/// (batch 128) of the same network, and their ratio; Iterations is the power-iteration count of the estimate.
/// </summary>
public sealed record JacobianTiming(string Model, int Iterations, bool Converged, double Tolerance, int BatchSize, double EstimateSeconds, double TrainStepSeconds, double Ratio);

/// <summary><c>initprune bench --jacobian</c>: the cost of measuring ‖J‖ (seed 002) on an MLP of width 256 and depth 20 and on Conv-4.</summary>
public static class JacobianBenchmark
{
    const int Batch = 128;
    const double Tolerance = 1e-4;

    public static List<JacobianTiming> RunInto(string outDir, int repetitions = 5, long seed = 0, Action<JacobianTiming>? progress = null)
    {
        if (repetitions < 1) throw new InitPruneException($"--repetitions {repetitions} is impossible: use at least 1");
        var dir = Artifacts.PrepareOutput(outDir);
        var results = new List<JacobianTiming>();
        foreach (var (spec, input) in new (ModelSpec, long[])[] { (new("mlp", Depth: 20, Width: 256), [784]), (new("conv4"), [3, 32, 32]) })
        {
            var t = Time(spec, input, repetitions, seed);
            results.Add(t);
            progress?.Invoke(t);
        }
        Artifacts.WriteJson(Path.Combine(dir, "jacobian.json"), results);
        return results;
    }

    static JacobianTiming Time(ModelSpec spec, long[] input, int repetitions, long seed)
    {
        using var gen = new Generator((ulong)seed);
        using var x = randn([Batch, .. input], generator: gen).to(Compute.Device);
        using var y = randint(0, 10, [Batch], generator: gen).to(Compute.Device);
        using var model = ModelRegistry.Create(spec, input, 10);
        Initializers.Apply(model, new InitSpec("normal"), seed);
        var options = new JacobianOptions(Tolerance: Tolerance, Seed: seed);
        using var one = x[0];
        JacobianEstimate last = null!;
        double estimate = Median(repetitions, () => last = JacobianNorm.Estimate(model, one, options));
        using var opt = new Sgd([.. model.parameters()], 0.9, 5e-4, false);
        double train = Median(repetitions, () =>
        {
            using var scope = NewDisposeScope();
            model.zero_grad();
            Trainer.Loss(model.forward(x), y, TaskKind.Classification).backward();
            opt.Step(1e-3);
        });
        var name = spec.Name == "mlp" ? "mlp 20×256" : spec.Name;
        return new JacobianTiming(name, last.Iterations, last.Converged, Tolerance, Batch, estimate, train, estimate / train);
    }

    /// <summary>Median seconds of one call over <paramref name="repetitions"/> calls, after one warm-up call.</summary>
    static double Median(int repetitions, Action step)
    {
        var times = new List<double>();
        for (int r = 0; r <= repetitions; r++)
        {
            var clock = Stopwatch.StartNew();
            step();
            if (r > 0) times.Add(clock.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
    }
}
