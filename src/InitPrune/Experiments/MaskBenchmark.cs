using System.Diagnostics;
using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Pruning;
using static TorchSharp.torch;

namespace InitPrune.Experiments;

/// <summary>Median seconds of one global mask from scores: <see cref="MaskBuilder.FromScores"/> against the stable sort it replaced.</summary>
public sealed record MaskTiming(string Model, string Dtype, int Tensors, long Entries, double Sparsity, double SelectSeconds, double SortSeconds, double Ratio);

/// <summary>
/// <c>initprune bench --masks</c>: the cost of turning one model's scores into a global mask (every one-shot method pays
/// it once, SynFlow and multi-shot SNIP/GraSP once per round), with |N(0, 1)| scores of the shapes of the model's prunable
/// weights, in float32 (SNIP, GraSP) and float64 (SynFlow's dtype). The baseline is the selection MaskBuilder used
/// before: all scores concatenated in float64, a stable descending sort, the first k indices. Both must give the same mask.
/// </summary>
public static class MaskBenchmark
{
    public static List<MaskTiming> RunInto(string outDir, int repetitions = 5, long seed = 0, string model = "vgg16", Action<MaskTiming>? progress = null)
    {
        if (repetitions < 1) throw new InitPruneException($"--repetitions {repetitions} is impossible: use at least 1");
        var dir = Artifacts.PrepareOutput(outDir);
        var results = new List<MaskTiming>();
        using var net = ModelRegistry.Create(new ModelSpec(model), [3, 32, 32], 10);
        var shapes = Pruner.Targets(net, new PruneSpec("magnitude", 0.9)).Select(t => (t.Name, t.Value.shape)).ToList();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            using var gen = new Generator((ulong)seed);
            using var scores = new TensorDict(shapes.Select(s => KeyValuePair.Create(s.Name, randn(s.shape, generator: gen, dtype: dtype).abs_())));
            var list = scores.Select(kv => (kv.Key, kv.Value)).ToList();
            foreach (var sparsity in new[] { 0.9, 0.99 })
            {
                var t = Time(model, list, dtype, sparsity, repetitions);
                results.Add(t);
                progress?.Invoke(t);
            }
        }
        Artifacts.WriteJson(Path.Combine(dir, "masks.json"), results);
        return results;
    }

    static MaskTiming Time(string model, List<(string Name, Tensor Scores)> scores, ScalarType dtype, double sparsity, int repetitions)
    {
        using (var mask = MaskBuilder.FromScores(scores, sparsity, PruneScope.Global))
        using (var sorted = SortBaseline(scores, sparsity))
            if (!mask.Tensors.All(kv => Same(kv.Value, sorted[kv.Key])))
                throw new InvalidOperationException("selection and sort gave different masks");
        var select = new List<double>();
        var sort = new List<double>();
        // ABBA order, a full collection before each timing.
        for (int r = 0; r < repetitions; r++)
            foreach (bool selectFirst in r % 2 == 0 ? new[] { true, false } : [false, true])
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                var clock = Stopwatch.StartNew();
                if (selectFirst) MaskBuilder.FromScores(scores, sparsity, PruneScope.Global).Dispose();
                else SortBaseline(scores, sparsity).Dispose();
                (selectFirst ? select : sort).Add(clock.Elapsed.TotalSeconds);
            }
        double a = Median(select), b = Median(sort);
        return new MaskTiming(model, dtype == ScalarType.Float32 ? "float32" : "float64", scores.Count, scores.Sum(s => s.Scores.numel()), sparsity, a, b, a / b);
    }

    /// <summary>MaskBuilder's global selection before selection replaced sorting (NaN check included), for comparison.</summary>
    static TensorDict SortBaseline(List<(string Name, Tensor Scores)> scores, double sparsity)
    {
        using var scope = NewDisposeScope();
        foreach (var (name, s) in scores)
            if (s.isnan().any().item<bool>())
                throw new InitPruneException($"scores of '{name}' contain NaN");
        var all = cat(scores.Select(p => p.Scores.flatten().to(ScalarType.Float64)).ToArray());
        var keep = zeros(all.numel(), dtype: ScalarType.Bool);
        long k = MaskBuilder.KeepCount(sparsity, all.numel());
        if (k > 0)
        {
            var (_, order) = sort(all, dim: 0, descending: true, stable: true);
            keep.index_fill_(0, order.narrow(0, 0, k), true);
        }
        var masks = new TensorDict();
        long offset = 0;
        foreach (var (name, s) in scores)
        {
            masks.Add(name, keep.narrow(0, offset, s.numel()).reshape(s.shape).clone());
            offset += s.numel();
        }
        return masks.MoveToOuterDisposeScope();
    }

    static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
    }

    static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
