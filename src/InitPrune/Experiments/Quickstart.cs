using System.Diagnostics;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Reporting;
using InitPrune.Training;

namespace InitPrune.Experiments;

/// <summary>The main job's settings: LeNet-300-100, pruned at initialization by each method at each sparsity, then trained.</summary>
public sealed record QuickstartOptions(
    string? DataDir = null,
    string[]? Methods = null,
    double[]? Sparsities = null,
    int Epochs = 5,
    int BatchSize = 100,
    double LearningRate = 0.05,
    long Seed = 0,
    long? TrainSubset = null)
{
    public string[] EffectiveMethods => Methods ?? ["random", "magnitude", "snip"];
    public double[] EffectiveSparsities => Sparsities ?? [0.0, 0.5, 0.9, 0.98];
}

/// <summary>One cell of the quickstart table.</summary>
public sealed record QuickstartRun(string Method, double Sparsity, double ActualSparsity, double TestAccuracy, double TestLoss,
    double Seconds, IReadOnlyList<LayerReport> Layers, IReadOnlyList<string> Warnings);

/// <summary>results.json of the quickstart.</summary>
public sealed record QuickstartResult(string Dataset, string DataSource, string? Note, string Model, int Epochs, long Seed,
    IReadOnlyList<QuickstartRun> Runs, IReadOnlyDictionary<string, string> Files)
{
    /// <summary>The sparsities in order, and per method (in order) its test accuracy (%) at each: the table the command prints.</summary>
    public (IReadOnlyList<double> Sparsities, IReadOnlyList<(string Method, double[] Accuracy)> Rows) AccuracyTable()
    {
        var sparsities = Runs.Select(x => x.Sparsity).Distinct().ToList();
        return (sparsities, [.. Runs.Select(x => x.Method).Distinct()
            .Select(m => (m, sparsities.Select(sp => 100 * Runs.First(x => x.Method == m && x.Sparsity == sp).TestAccuracy).ToArray()))]);
    }
}

public static class Quickstart
{
    public const string FallbackNote = "Fashion-MNIST not found, so the quickstart runs on the synthetic ellipse task; for real data: sudo apt-get install dataset-fashion-mnist (or pass --data-dir)";

    /// <summary>The quickstart's first line: what it runs on, and how to get Fashion-MNIST when it is missing.</summary>
    public static string Describe(QuickstartOptions o)
    {
        Check(o);
        return FashionMnistRoot(o) is { } root
            ? $"InitPrune quickstart on Fashion-MNIST ({root}): LeNet-300-100, methods {string.Join(", ", o.EffectiveMethods)}, sparsities {string.Join(", ", o.EffectiveSparsities)}, {o.Epochs} epochs each"
            : FallbackNote;
    }

    static readonly ModelSpec LeNet = new("lenet300");
    static readonly InitSpec EocInit = new("normal", Math.Sqrt(2), 0.0); // ReLU's Edge of Chaos (seed 001 §2): σw² = 2, σb = 0.

    /// <summary>Refuses impossible options (subset, sparsities, methods, and methods that do not apply to LeNet-300-100) before any data is read.</summary>
    static void Check(QuickstartOptions o)
    {
        if (o.TrainSubset is < 1)
            throw new InitPruneException($"--train-subset {o.TrainSubset} is impossible: give the number of training samples to use, at least 1");
        foreach (var m in o.EffectiveMethods)
            foreach (var s in o.EffectiveSparsities)
                Setup.Check("fashion-mnist", LeNet, EocInit, prune: new PruneSpec(m, s));
    }

    /// <summary>
    /// Where Fashion-MNIST is, or null to fall back on the ellipse task. A data folder the user chose (--data-dir,
    /// $INITPRUNE_DATA) must hold it: then a missing dataset is the one-line not-found error, never the fallback.
    /// </summary>
    static string? FashionMnistRoot(QuickstartOptions o) =>
        DataRoot.Chosen(o.DataDir) is null ? DatasetRegistry.TryFindRoot("fashion-mnist") : DatasetRegistry.FindRoot("fashion-mnist", o.DataDir);

    /// <summary>Runs every method × sparsity (the dense network once, shared by all methods) and writes results.json and accuracy.png.</summary>
    public static QuickstartResult Run(QuickstartOptions o, string outDir, Action<string, double>? runStarted = null, Action<Trainer>? configure = null)
    {
        Check(o);
        outDir = Artifacts.PrepareOutput(outDir);
        bool real = FashionMnistRoot(o) is not null;
        var dataset = real ? "fashion-mnist" : "ellipse";
        var data = DatasetRegistry.Load(dataset, o.DataDir, (int)o.Seed);
        if (o.TrainSubset is { } n) data = data with { Train = data.Train.Take(Math.Min(n, data.Train.Count)) };
        var (modelSpec, init) = (LeNet, EocInit);
        var train = new TrainConfig(o.Epochs, o.BatchSize, o.LearningRate, Momentum: 0.9, Schedule: "cosine");
        var (x, y) = Setup.ScoringBatch(data.Train, o.BatchSize, o.Seed);

        var runs = new List<QuickstartRun>();
        QuickstartRun? dense = null;
        foreach (var sparsity in o.EffectiveSparsities)
        {
            foreach (var method in o.EffectiveMethods)
            {
                if (sparsity == 0 && dense is not null)
                {
                    runs.Add(dense with { Method = method });
                    continue;
                }
                runStarted?.Invoke(sparsity == 0 ? "dense" : method, sparsity);
                var clock = Stopwatch.StartNew();
                using var model = Setup.Model(data, modelSpec, init, o.Seed);
                using var pruned = Pruner.Prune(model, new PruneSpec(method, sparsity), new ScoringContext(x, y, data.Train.Kind, Seeds.For(o.Seed, "prune")));
                var trainer = new Trainer(train);
                configure?.Invoke(trainer);
                var history = trainer.Train(model, data, Seeds.For(o.Seed, "train"));
                var last = history[^1];
                var run = new QuickstartRun(method, sparsity, pruned.Mask.Sparsity, last.TestAccuracy ?? double.NaN, last.TestLoss,
                    clock.Elapsed.TotalSeconds, pruned.Layers, [.. pruned.Warnings]);
                runs.Add(run);
                if (sparsity == 0) dense = run;
            }
        }
        x.Dispose(); y.Dispose();

        var files = new Dictionary<string, string> { ["results"] = "results.json", ["plot"] = "accuracy.png" };
        var sparsities = o.EffectiveSparsities;
        var series = o.EffectiveMethods.Select(m => new Series(m,
            [.. sparsities.Select((_, i) => (double)i)],
            [.. sparsities.Select(s => 100 * runs.First(r => r.Method == m && r.Sparsity == s).TestAccuracy)])).ToList();
        Plots.Lines(Path.Combine(outDir, "accuracy.png"), $"LeNet-300-100 on {dataset}: pruned at initialization, {o.Epochs} epochs",
            "sparsity", "test accuracy (%)", series, xTickLabels: [.. sparsities.Select(s => s.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture))]);
        var result = new QuickstartResult(dataset, data.Source, real ? null : FallbackNote, "lenet300 (784-300-100-10, relu, EOC init σw=√2, σb=0)",
            o.Epochs, o.Seed, runs, files);
        Artifacts.WriteJson(Path.Combine(outDir, "results.json"), result);
        return result;
    }
}
