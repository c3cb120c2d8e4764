using System.Diagnostics;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Tickets;
using InitPrune.Training;
using static TorchSharp.torch;

namespace InitPrune.Experiments;

/// <summary>
/// Median seconds of one edge-popup step (<see cref="EdgePopup.Step"/>: supermask, forward, straight-through backward,
/// score update) beside one SGD step of the same dense network on the same batch, and their ratio.
/// </summary>
public sealed record TicketStepTiming(string Model, int BatchSize, long Scores, double KeptFraction, double EdgePopupStepSeconds, double TrainStepSeconds, double Ratio);

/// <summary>
/// <c>initprune bench --edge-popup</c>: the cost of an edge-popup step for seed 004's MLP (L = 5 layers of width 100,
/// 2 inputs, 4 classes: the ellipse task) and Conv-4 (3×32×32, 10 classes), batch 32 (the paper's).
/// </summary>
public static class TicketBenchmark
{
    public static List<TicketStepTiming> RunInto(string outDir, int steps = 200, int repetitions = 5, long seed = 0, Action<TicketStepTiming>? progress = null)
    {
        if (steps < 1) throw new InitPruneException($"--batches {steps} is impossible: time at least 1 step");
        if (repetitions < 1) throw new InitPruneException($"--repetitions {repetitions} is impossible: use at least 1");
        var dir = Artifacts.PrepareOutput(outDir);
        var results = new List<TicketStepTiming>();
        foreach (var (spec, input, classes) in new (ModelSpec, long[], int)[] { (new("mlp", Depth: 4, Width: 100), [2], 4), (new("conv4"), [3, 32, 32], 10) })
        {
            var t = Time(spec, input, classes, steps, repetitions, seed);
            results.Add(t);
            progress?.Invoke(t);
        }
        Artifacts.WriteJson(Path.Combine(dir, "edge-popup.json"), results);
        return results;
    }

    static TicketStepTiming Time(ModelSpec spec, long[] input, int classes, int steps, int repetitions, long seed)
    {
        const int batch = 32;
        const double kept = 0.05;
        using var gen = new Generator((ulong)seed);
        using var x = randn([batch, .. input], generator: gen).to(Compute.Device);
        using var y = randint(0, classes, [batch], generator: gen).to(Compute.Device);
        using var model = ModelRegistry.Create(spec, input, classes);
        Initializers.Apply(model, new InitSpec("slt-he"), seed);
        long scores = Network.Prunable(model, includeBiases: true).Sum(t => t.Count);
        // Scores move little at this learning rate, so every step selects a fresh top-k as in a real run.
        double popup;
        using (var edgePopup = new EdgePopup(model, new EdgePopupConfig(1 - kept), seed))
            popup = Median(repetitions, steps, () => edgePopup.Step(x, y, TaskKind.Classification, 1e-3));
        using var opt = new Sgd([.. model.parameters()], 0.9, 5e-4, false);
        double train = Median(repetitions, steps, () =>
        {
            using var scope = NewDisposeScope();
            model.zero_grad();
            Trainer.Loss(model.forward(x), y, TaskKind.Classification).backward();
            opt.Step(1e-3);
        });
        var name = spec.Name == "mlp" ? "mlp 5×100 (seed 004)" : spec.Name;
        return new TicketStepTiming(name, batch, scores, kept, popup, train, popup / train);
    }

    /// <summary>Median over <paramref name="repetitions"/> of the mean seconds per call of <paramref name="steps"/> calls, after one warm-up repetition.</summary>
    static double Median(int repetitions, int steps, Action step)
    {
        var times = new List<double>();
        for (int r = 0; r <= repetitions; r++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++) step();
            if (r > 0) times.Add(clock.Elapsed.TotalSeconds / steps);
        }
        times.Sort();
        return times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
    }
}
