using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Pruning;
using static TorchSharp.torch;

namespace InitPrune.Tickets;

/// <summary>
/// Edge-popup's top-k (Ramanujan et al. 2020, GetSubnet): which weights and biases a kept fraction ρ keeps, given
/// their scores. Within a group of tensors that share one ranking, the k = <see cref="KeepCount"/> entries of largest
/// |s| are kept, ties going to the earlier entry (group order, then row-major index), so the counts are exact.
/// </summary>
public static class Supermask
{
    /// <summary>
    /// Entries kept of <paramref name="n"/> at kept fraction ρ: n − ⌊(1 − ρ)n⌋, the reference's count (GetSubnet
    /// prunes the int((1 − k)·n) smallest), so a layer keeps at least one entry whenever ρ > 0.
    /// </summary>
    public static long KeepCount(double keptFraction, long n) => n - (long)Math.Floor((1 - keptFraction) * n);

    /// <summary>
    /// The groups of prunable tensors (names, forward order) that share one top-k: layer-wise, each tensor (biases
    /// <see cref="BiasRanking.Separate"/>) or each layer's weight and bias (<see cref="BiasRanking.Joint"/>); global,
    /// all weights and all biases (separate) or everything (joint).
    /// </summary>
    public static List<List<string>> Groups(IReadOnlyList<PrunableTensor> tensors, PruneScope scope, BiasRanking biases)
    {
        if (scope == PruneScope.Global)
        {
            if (biases == BiasRanking.Joint) return [[.. tensors.Select(t => t.Name)]];
            List<List<string>> split = [[.. tensors.Where(t => !t.IsBias).Select(t => t.Name)], [.. tensors.Where(t => t.IsBias).Select(t => t.Name)]];
            return [.. split.Where(g => g.Count > 0)];
        }
        if (biases == BiasRanking.Separate) return [.. tensors.Select(t => new List<string> { t.Name })];
        return [.. tensors.GroupBy(t => t.Layer).Select(g => g.Select(t => t.Name).ToList())];
    }

    /// <summary>
    /// Masks (1 = kept, in <paramref name="dtype"/>; bool by default) of <paramref name="scores"/> at kept fraction ρ: per
    /// group the <see cref="KeepCount"/> entries with the largest |s|. The caller owns the returned tensors.
    /// </summary>
    public static TensorDict Select(IReadOnlyDictionary<string, Tensor> scores, IReadOnlyList<IReadOnlyList<string>> groups, double keptFraction,
        ScalarType dtype = ScalarType.Bool)
    {
        if (!(keptFraction > 0 && keptFraction <= 1))
            throw new InitPruneException($"kept fraction {keptFraction} is impossible: it must be in (0, 1]");
        using var _ = no_grad();
        using var temporaries = NewDisposeScope();
        var masks = new TensorDict();
        foreach (var group in groups)
        {
            if (group is [var only])
            {
                var s = scores[only];
                masks.Add(only, TopK(s.abs().flatten(), keptFraction, dtype).view(s.shape));
                continue;
            }
            var keep = TopK(cat(group.Select(name => scores[name].abs().flatten()).ToArray()), keptFraction, dtype);
            long offset = 0;
            foreach (var name in group)
            {
                var s = scores[name];
                masks.Add(name, keep.narrow(0, offset, s.numel()).view(s.shape));
                offset += s.numel();
            }
        }
        // In the order of the scores (forward order), whatever the grouping.
        var ordered = new TensorDict(scores.Keys.Where(masks.ContainsKey).Select(name => KeyValuePair.Create(name, masks.Take(name))));
        return ordered.MoveToOuterDisposeScope();
    }

    /// <summary>1 at the <see cref="KeepCount"/> largest entries of a 1-D tensor, the earlier entry winning ties (stable sort).</summary>
    static Tensor TopK(Tensor magnitudes, double keptFraction, ScalarType dtype)
    {
        long n = magnitudes.numel(), k = KeepCount(keptFraction, n);
        var keep = zeros(n, dtype: dtype, device: magnitudes.device);
        var (_, order) = sort(magnitudes, dim: 0, descending: true, stable: true);
        return keep.index_fill_(0, order.narrow(0, 0, k), Scalars.One);
    }
}
