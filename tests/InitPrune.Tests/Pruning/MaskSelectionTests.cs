using InitPrune.Pruning;
using static TorchSharp.torch;

namespace InitPrune.Tests.Pruning;

/// <summary>
/// MaskBuilder selects (k-th value, then ties by index) instead of sorting; its masks must be bit-identical to those
/// of the sort-based algorithm it replaced, kept here as the oracle.
/// </summary>
public class MaskSelectionTests
{
    /// <summary>The replaced algorithm: layer-wise in the tensor's dtype, global over all scores promoted to float64; stable descending sort, top k.</summary>
    static Tensor[] SortOracle(IReadOnlyList<(string Name, Tensor Scores)> scores, double sparsity, PruneScope scope, KeepRule rule)
    {
        if (scope == PruneScope.LayerWise)
            return [.. scores.Select(p => OracleSelect(p.Scores.flatten(), sparsity, rule).reshape(p.Scores.shape))];
        var all = cat(scores.Select(p => p.Scores.flatten().to(ScalarType.Float64)).ToArray());
        var keep = OracleSelect(all, sparsity, rule);
        long offset = 0;
        var masks = new List<Tensor>();
        foreach (var (_, s) in scores)
        {
            masks.Add(keep.narrow(0, offset, s.numel()).reshape(s.shape));
            offset += s.numel();
        }
        return [.. masks];
    }

    static Tensor OracleSelect(Tensor flat, double sparsity, KeepRule rule)
    {
        if (rule == KeepRule.Stable) return OracleTopK(flat, MaskBuilder.KeepCount(sparsity, flat.numel()));
        long k = (long)(sparsity * flat.numel());
        if (k < 1) return ones(flat.numel(), dtype: ScalarType.Bool);
        var (threshold, _) = flat.kthvalue(k, 0, false);
        return flat.gt(threshold);
    }

    static Tensor OracleTopK(Tensor flat, long k)
    {
        var mask = zeros(flat.numel(), dtype: ScalarType.Bool);
        if (k == 0) return mask;
        var (_, order) = sort(flat, dim: 0, descending: true, stable: true);
        mask.index_fill_(0, order.narrow(0, 0, k), true);
        return mask;
    }

    static readonly float[] Specials = [float.NegativeInfinity, -1f, -0f, 0f, 0f, 1f, 2f, float.PositiveInfinity];

    /// <summary>Scores with many ties: small integers, constants, ±0 and ±∞ mixed with normal draws.</summary>
    static Tensor RandomScores(Random rng, long[] shape, ScalarType dtype)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        int kind = rng.Next(4);
        float constant = Specials[rng.Next(Specials.Length)];
        var values = new float[n];
        for (long i = 0; i < n; i++)
            values[i] = kind switch
            {
                0 => rng.Next(-3, 4),
                1 => constant,
                2 => Specials[rng.Next(Specials.Length)],
                _ => rng.Next(3) == 0 ? Specials[rng.Next(Specials.Length)] : (float)(rng.NextDouble() * 2 - 1),
            };
        var t = tensor(values).reshape(shape).to(dtype);
        // Now and then a transposed (non-contiguous) view: ranked in its row-major order like any tensor.
        return shape.Length == 2 && rng.Next(4) == 0 ? t.reshape(shape[1], shape[0]).t() : t;
    }

    static long[] RandomShape(Random rng) => rng.Next(3) switch
    {
        0 => [rng.Next(1, 60)],
        1 => [rng.Next(1, 12), rng.Next(1, 12)],
        _ => [rng.Next(1, 5), rng.Next(1, 4), 3, 3],
    };

    static void AssertSame(Tensor[] expected, Mask actual, IReadOnlyList<(string Name, Tensor Scores)> scores, string what)
    {
        for (int i = 0; i < scores.Count; i++)
        {
            var got = actual.Tensors[scores[i].Name];
            Assert.True(got.dtype == ScalarType.Bool && got.shape.SequenceEqual(expected[i].shape) && got.eq(expected[i]).all().item<bool>(),
                $"{what}: mask of '{scores[i].Name}' differs from the sort-based oracle");
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32, ScalarType.Float32)]
    [InlineData(ScalarType.Float64, ScalarType.Float64)]
    [InlineData(ScalarType.Float32, ScalarType.Float64)]
    [InlineData(ScalarType.Float16, ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16, ScalarType.Float32)]
    public void Masks_are_bit_identical_to_the_stable_sort_on_random_scores_with_ties(ScalarType first, ScalarType rest)
    {
        var rng = new Random(17 + (int)first * 31 + (int)rest);
        for (int trial = 0; trial < 150; trial++)
        {
            using var scope = NewDisposeScope();
            int count = rng.Next(1, 5);
            var scores = Enumerable.Range(0, count).Select(i => ($"t{i}", RandomScores(rng, RandomShape(rng), i == 0 ? first : rest))).ToList();
            long n = scores.Sum(p => p.Item2.numel());
            // Random sparsities, and the ends: k = N (0), k = 0 (above 1 − 1/(2N)), one kept, one pruned.
            double s = (trial % 6) switch
            {
                0 => 0,
                1 => 1 - 0.4 / n,
                2 => 1 - 1.0 / n,
                3 => 1.0 / n,
                _ => rng.NextDouble() * 0.999,
            };
            foreach (var pruneScope in new[] { PruneScope.Global, PruneScope.LayerWise })
                foreach (var rule in new[] { KeepRule.Stable, KeepRule.Reference })
                {
                    using var mask = MaskBuilder.FromScores(scores, s, pruneScope, rule);
                    AssertSame(SortOracle(scores, s, pruneScope, rule), mask, scores, $"trial {trial}, s = {s}, {pruneScope}, {rule}");
                }
            var keep = scores.ToDictionary(p => p.Item1, p => (long)rng.Next(0, (int)p.Item2.numel() + 1));
            using var counted = MaskBuilder.FromCounts(scores, keep);
            AssertSame([.. scores.Select(p => OracleTopK(p.Item2.flatten(), keep[p.Item1]).reshape(p.Item2.shape))], counted, scores, $"trial {trial}, counts");
        }
    }

    [Fact]
    public void Signed_zeros_tie_and_the_earlier_entry_is_kept()
    {
        // −0 and +0 are equal to the sort as to the selection: the two kept zeros are the first two by index.
        var a = tensor(new float[] { -0f, 1f, 0f, -0f, 0f });
        var b = tensor(new double[] { 0.0, -0.0, 2.0 });
        using var m = MaskBuilder.FromScores([("a", a), ("b", b)], 0.5, PruneScope.Global);
        Assert.Equal([true, true, true, false, false], m.Tensors["a"].data<bool>().ToArray());
        Assert.Equal([false, false, true], m.Tensors["b"].data<bool>().ToArray());
    }

    /// <summary>Tensors large enough for the sampled one-pass threshold (and its fallbacks: heavy ties, a lone tensor below the sampling size).</summary>
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void A_large_selection_with_heavy_ties_matches_the_sort(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        // Scores like SynFlow's later rounds: 30% exact zeros, 10% −1 (pruned before), the rest continuous; at 5% and
        // 30% sparsity the threshold falls among the ties.
        var scores = new List<(string, Tensor)>();
        foreach (var (name, n) in new[] { ("a", 30_000L), ("b", 120_000L), ("c", 50_000L) })
        {
            var x = randn([n], generator: g, dtype: dtype).abs_();
            var u = rand([n], generator: g, dtype: ScalarType.Float64);
            scores.Add((name, x.masked_fill(u.lt(0.3), 0.0).masked_fill(u.gt(0.9), -1.0)));
        }
        foreach (var s in new[] { 0.0, 0.05, 0.3, 0.5, 0.9, 0.99, 0.99999 })
            foreach (var pruneScope in new[] { PruneScope.Global, PruneScope.LayerWise })
                foreach (var rule in new[] { KeepRule.Stable, KeepRule.Reference })
                {
                    using var mask = MaskBuilder.FromScores(scores, s, pruneScope, rule);
                    AssertSame(SortOracle(scores, s, pruneScope, rule), mask, scores, $"s = {s}, {pruneScope}, {rule}");
                }
    }
}
