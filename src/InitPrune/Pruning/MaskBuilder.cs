using InitPrune.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>Global: one threshold over all prunable tensors. LayerWise: each tensor keeps the same fraction.</summary>
public enum PruneScope { Global, LayerWise }

/// <summary>
/// How many entries a sparsity keeps. Stable: exactly round((1 − s)·N), ties to the earlier entry. Reference
/// (Synaptic-Flow's <c>_global_mask</c>/<c>_local_mask</c>): threshold at the k-th smallest score, k = int(s·N), and
/// prune every entry ≤ it, so all entries tied at the threshold go (nothing is pruned when k = 0).
/// </summary>
public enum KeepRule { Stable, Reference }

/// <summary>Turns scores into a mask, shared by every method.</summary>
public static class MaskBuilder
{
    /// <summary>Number of entries kept out of <paramref name="total"/> at sparsity s: round((1 − s)·total).</summary>
    public static long KeepCount(double sparsity, long total) =>
        (long)Math.Round((1.0 - sparsity) * total, MidpointRounding.AwayFromZero);

    /// <summary>
    /// Keeps exactly <see cref="KeepCount"/> entries with the highest scores (per tensor for layer-wise).
    /// Ties are broken deterministically: among equal scores the entry that comes first (tensor order, then
    /// row-major index) is kept.
    /// </summary>
    public static Mask FromScores(IReadOnlyList<(string Name, Tensor Scores)> scores, double sparsity, PruneScope scope, KeepRule rule = KeepRule.Stable)
    {
        CheckSparsity(sparsity);
        using var temporaries = NewDisposeScope();
        foreach (var (name, s) in scores)
            if (s.isnan().any().item<bool>())
                throw new InitPruneException($"scores of '{name}' contain NaN: the network or batch produced non-finite gradients; check the initialization scale");
        if (scope == PruneScope.LayerWise)
            return Kept(scores.ToTensorDict(p => p.Name, p => Select(p.Scores.flatten(), sparsity, rule).reshape(p.Scores.shape)));

        var all = cat(scores.Select(p => p.Scores.flatten().to(ScalarType.Float64)).ToArray());
        var keep = Select(all, sparsity, rule);
        var masks = new TensorDict();
        long offset = 0;
        foreach (var (name, s) in scores)
        {
            masks.Add(name, keep.narrow(0, offset, s.numel()).reshape(s.shape).clone());
            offset += s.numel();
        }
        return Kept(masks);
    }

    /// <summary>A mask whose tensors outlive the caller's temporaries scope (the scope frees them if building fails).</summary>
    static Mask Kept(TensorDict masks) => new(masks.MoveToOuterDisposeScope());

    /// <summary>Keeps exactly <paramref name="keep"/>[name] top-scoring entries of each tensor (same ties as above).</summary>
    public static Mask FromCounts(IReadOnlyList<(string Name, Tensor Scores)> scores, IReadOnlyDictionary<string, long> keep)
    {
        foreach (var (name, s) in scores)
            if (!keep.TryGetValue(name, out var k) || k < 0 || k > s.numel())
                throw new InitPruneException($"keep count for '{name}' must be between 0 and {s.numel()}");
        using var temporaries = NewDisposeScope();
        return Kept(scores.ToTensorDict(p => p.Name, p => TopK(p.Scores.flatten(), keep[p.Name]).reshape(p.Scores.shape)));
    }

    /// <summary>
    /// The exponential schedule of iterative pruning (Tanaka et al. 2020 Alg. 1; Frankle &amp; Carbin 2019): after step k
    /// of n the kept fraction is (1 − s)^{k/n}; the last step hits s exactly.
    /// </summary>
    public static double ExponentialSparsity(double sparsity, int k, int n) =>
        k == n ? sparsity : 1 - Math.Pow(1 - sparsity, (double)k / n);

    /// <summary>
    /// Iterative pruning on the exponential schedule, the one round loop of SynFlow and multi-shot SNIP/GraSP: round k
    /// of n calls <paramref name="score"/> with the mask of round k − 1 (null in round 1), which scores the network with
    /// that mask applied; entries pruned in an earlier round then score <paramref name="pruned"/>, below every score, so
    /// they stay pruned (the masks only shrink); the round keeps the top entries at sparsity
    /// <see cref="ExponentialSparsity"/>, the last one exactly at the spec's. Returns the last round's scores and
    /// mask, both the caller's; nothing stays allocated when a round throws.
    /// </summary>
    public static (TensorDict Scores, Mask Mask) Iterate(IReadOnlyList<string> names, PruneSpec spec, int n, Scalar pruned, Func<Mask?, TensorDict> score)
    {
        Mask? keep = null;
        TensorDict? scores = null;
        try
        {
            for (int k = 1; k <= n; k++)
            {
                var current = score(keep);
                scores?.Dispose();
                scores = current;
                if (keep is not null)
                    using (no_grad())
                        foreach (var name in names)
                            using (var gone = keep.Tensors[name].logical_not())
                                current[name].masked_fill_(gone, pruned);
                var mask = FromScores([.. names.Select(name => (name, current[name]))], ExponentialSparsity(spec.Sparsity, k, n), spec.Scope, spec.KeepRule);
                keep?.Dispose();
                keep = mask;
            }
            return (scores!, keep!);
        }
        catch
        {
            keep?.Dispose();
            scores?.Dispose();
            throw;
        }
    }

    public static void CheckSparsity(double sparsity)
    {
        if (!(sparsity >= 0 && sparsity < 1))
            throw new InitPruneException($"sparsity {sparsity} is impossible: it must be in [0, 1) (0.9 keeps 10% of the weights)");
    }

    /// <summary>The kept entries of a 1-D tensor of scores under <paramref name="rule"/>.</summary>
    static Tensor Select(Tensor flat, double sparsity, KeepRule rule)
    {
        if (rule == KeepRule.Stable) return TopK(flat, KeepCount(sparsity, flat.numel()));
        long k = (long)(sparsity * flat.numel());
        if (k < 1) return ones(flat.numel(), dtype: ScalarType.Bool, device: flat.device);
        var (threshold, _) = flat.kthvalue(k, 0, false);
        return flat.gt(threshold);
    }

    /// <summary>Boolean vector with true at the k highest entries of a 1-D tensor (stable: earlier index wins ties).</summary>
    static Tensor TopK(Tensor flat, long k)
    {
        var mask = zeros(flat.numel(), dtype: ScalarType.Bool, device: flat.device);
        if (k == 0) return mask;
        var (_, order) = sort(flat, dim: 0, descending: true, stable: true);
        using (order)
        using (var top = order.narrow(0, 0, k))
            mask.index_fill_(0, top, true);
        return mask;
    }
}
