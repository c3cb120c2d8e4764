using InitPrune.Engine;
using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>
/// Where a network's critical sparsity lies: <see cref="Rank"/> is the 0-based position, in the global descending
/// order of all <see cref="Total"/> scores, of the best entry of <see cref="Layer"/>, the layer whose best entry
/// ranks last; <see cref="Value"/> = 1 − Rank/Total.
/// </summary>
public sealed record CriticalSparsityPoint(double Value, string Layer, long Rank, long Total);

/// <summary>The exact critical sparsity of one set of scores (seed 001 §2.1: s_cr = min{s : ∃l, |A_l| = M_l}).</summary>
public static class CriticalSparsity
{
    /// <summary>
    /// Keeping the top k scores (global order, ties to the earlier entry as in MaskBuilder) leaves layer l empty
    /// iff k ≤ r_l, the 0-based global rank of l's best entry. So some layer is empty iff k ≤ R = max_l r_l, and on
    /// the grid of sparsities s = 1 − k/T the smallest one that empties a layer is s_cr = 1 − R/T.
    /// </summary>
    public static CriticalSparsityPoint FromScores(IReadOnlyList<(string Name, Tensor Scores)> scores)
    {
        if (scores.Count == 0) throw new InitPruneException("no prunable tensors: the critical sparsity needs at least one layer");
        using var scope = NewDisposeScope();
        var all = cat(scores.Select(p => p.Scores.detach().flatten().to(ScalarType.Float64).cpu()).ToArray());
        if (all.isnan().any().item<bool>())
            throw new InitPruneException("scores contain NaN: the network produced non-finite gradients; check the initialization scale");
        var (_, order) = sort(all, dim: 0, descending: true, stable: true);
        var rank = empty_like(order).scatter_(0, order, arange(order.numel(), dtype: order.dtype));
        long offset = 0, worst = -1;
        string layer = "";
        foreach (var (name, s) in scores)
        {
            long best = rank.narrow(0, offset, s.numel()).min().item<long>();
            if (best > worst) (worst, layer) = (best, name);
            offset += s.numel();
        }
        return new CriticalSparsityPoint(1 - (double)worst / all.numel(), layer, worst, all.numel());
    }
}
