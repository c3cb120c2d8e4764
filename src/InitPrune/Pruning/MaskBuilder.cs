using System.Numerics;
using System.Runtime.InteropServices;
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
    /// row-major index) is kept. Global scope ranks the scores in their own dtype when all tensors share float32 or
    /// float64, else in float64; by selection (<see cref="Keep"/>), not sorting.
    /// </summary>
    public static Mask FromScores(IReadOnlyList<(string Name, Tensor Scores)> scores, double sparsity, PruneScope scope, KeepRule rule = KeepRule.Stable)
    {
        CheckSparsity(sparsity);
        using var temporaries = NewDisposeScope();
        CheckNoNaN(scores);
        if (scope == PruneScope.LayerWise)
            return Kept(scores.ToTensorDict(p => p.Name, p => Select([p.Scores], sparsity, rule)[0]));

        var dtype = scores.Count > 0 ? scores[0].Scores.dtype : ScalarType.Float64;
        bool own = dtype is ScalarType.Float32 or ScalarType.Float64 && scores.All(p => p.Scores.dtype == dtype);
        var keep = Select([.. scores.Select(p => own ? p.Scores : p.Scores.to(ScalarType.Float64))], sparsity, rule);
        var masks = new TensorDict();
        for (int i = 0; i < scores.Count; i++) masks.Add(scores[i].Name, keep[i]);
        return Kept(masks);
    }

    static void CheckNoNaN(IReadOnlyList<(string Name, Tensor Scores)> scores)
    {
        foreach (var (name, s) in scores)
            if (HasNaN(s))
                throw new InitPruneException($"scores of '{name}' contain NaN: the network or batch produced non-finite gradients; check the initialization scale");
    }

    /// <summary>Whether <paramref name="t"/> holds a NaN: a managed scan of contiguous float32/float64 CPU tensors, isnan elsewhere.</summary>
    static bool HasNaN(Tensor t)
    {
        if (t.device_type == DeviceType.CPU && t.is_contiguous())
        {
            if (t.dtype == ScalarType.Float32) return HasNaN(MemoryMarshal.Cast<byte, float>(t.bytes));
            if (t.dtype == ScalarType.Float64) return HasNaN(MemoryMarshal.Cast<byte, double>(t.bytes));
        }
        using var nan = t.isnan().any();
        return nan.item<bool>();
    }

    static bool HasNaN<T>(ReadOnlySpan<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var x in v)
            if (T.IsNaN(x)) return true;
        return false;
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
        CheckNoNaN(scores);
        return Kept(scores.ToTensorDict(p => p.Name, p => Keep([p.Scores], keep[p.Name], fillTies: true)[0]));
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

    /// <summary>The kept entries of <paramref name="parts"/>, ranked as one (part order, then row-major), under <paramref name="rule"/>; one bool tensor per part, of its shape.</summary>
    static Tensor[] Select(IReadOnlyList<Tensor> parts, double sparsity, KeepRule rule)
    {
        long n = parts.Sum(p => p.numel());
        if (rule == KeepRule.Stable) return Keep(parts, KeepCount(sparsity, n), fillTies: true);
        long k = (long)(sparsity * n);
        if (k < 1) return [.. parts.Select(p => ones_like(p, dtype: ScalarType.Bool))];
        // Entries above the k-th smallest, i.e. the (n − k + 1)-th largest (kthvalue's threshold).
        return Keep(parts, n - k + 1, fillTies: false);
    }

    /// <summary>
    /// True at every entry of <paramref name="parts"/> (ranked as one: part order, then row-major) above t, the
    /// <paramref name="rank"/>-th largest entry; with <paramref name="fillTies"/> also at the first entries equal to t
    /// until exactly <paramref name="rank"/> are kept: the top <paramref name="rank"/> of a stable descending sort (+0 and
    /// −0 are equal, as there). Selection, not sorting: on the CPU t by <see cref="Threshold{T}"/> for float32 or
    /// float64 scores, then managed passes; elsewhere kthvalue in the scores' dtype.
    /// </summary>
    static Tensor[] Keep(IReadOnlyList<Tensor> parts, long rank, bool fillTies)
    {
        long n = parts.Sum(p => p.numel());
        if (rank == 0) return [.. parts.Select(p => zeros_like(p, dtype: ScalarType.Bool))];
        if (rank == n && fillTies) return [.. parts.Select(p => ones_like(p, dtype: ScalarType.Bool))];
        var dtype = parts[0].dtype;
        if (n <= Array.MaxLength && parts.All(p => p.device_type == DeviceType.CPU && p.dtype == dtype))
        {
            if (dtype == ScalarType.Float32) return KeepManaged<float>(parts, rank, fillTies);
            if (dtype == ScalarType.Float64) return KeepManaged<double>(parts, rank, fillTies);
        }
        var flat = parts.Select(p => p.flatten()).ToArray();
        var (threshold, _) = (flat.Length == 1 ? flat[0] : cat(flat)).kthvalue(n - rank + 1, 0, false);
        var keep = flat.Select(f => f.gt(threshold)).ToArray();
        long need = rank - keep.Sum(Mask.CountNonzero);
        for (int i = 0; fillTies && need > 0 && i < flat.Length; i++)
        {
            var tied = flat[i].eq(threshold);
            long ties = Mask.CountNonzero(tied);
            if (ties <= need)
                keep[i].logical_or_(tied);
            else
                keep[i].index_fill_(0, tied.nonzero().flatten().narrow(0, 0, need), true);
            need -= Math.Min(ties, need);
        }
        return [.. keep.Select((m, i) => m.reshape(parts[i].shape))];
    }

    /// <summary><see cref="Keep"/> on CPU tensors of one floating dtype, in managed code.</summary>
    static Tensor[] KeepManaged<T>(IReadOnlyList<Tensor> parts, long rank, bool fillTies) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var contiguous = parts.Select(p => p.contiguous()).ToArray();
        var threshold = Threshold<T>(contiguous, rank);
        var keep = contiguous.Select(p => empty(p.shape, ScalarType.Bool, p.device)).ToArray();
        long kept = 0;
        for (int i = 0; i < contiguous.Length; i++)
        {
            ReadOnlySpan<T> scores = MemoryMarshal.Cast<byte, T>(contiguous[i].bytes);
            var mask = keep[i].bytes;
            for (int j = 0; j < scores.Length; j++)
            {
                bool above = scores[j] > threshold;
                mask[j] = above ? (byte)1 : (byte)0;
                if (above) kept++;
            }
        }
        for (int i = 0; fillTies && kept < rank && i < contiguous.Length; i++)
        {
            ReadOnlySpan<T> scores = MemoryMarshal.Cast<byte, T>(contiguous[i].bytes);
            var mask = keep[i].bytes;
            for (int j = 0; j < scores.Length && kept < rank; j++)
                if (scores[j] == threshold)
                {
                    mask[j] = 1;
                    kept++;
                }
        }
        return keep;
    }

    /// <summary>
    /// The <paramref name="rank"/>-th largest entry of <paramref name="parts"/> (contiguous CPU tensors of dtype
    /// <typeparamref name="T"/>, no NaN), in one pass when a strided sample brackets it: with U and L sample values
    /// safely above and below it, the entries above U are only counted and those in [L, U] collected; the rank then
    /// falls among the collected ones (quickselect on them), or all of them equal U = L. Else a quickselect over a copy of all.
    /// </summary>
    static T Threshold<T>(Tensor[] parts, long rank) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long n = parts.Sum(p => p.numel());
        const int samples = 8192;
        if (n >= 8 * samples)
        {
            var sample = new T[samples];
            int taken = 0;
            long offset = 0;
            foreach (var part in parts)
            {
                ReadOnlySpan<T> v = MemoryMarshal.Cast<byte, T>(part.bytes);
                for (; taken < samples; taken++)
                {
                    long at = (long)((taken + 0.5) * n / samples) - offset;
                    if (at >= v.Length) break;
                    sample[taken] = v[(int)at];
                }
                offset += v.Length;
            }
            Array.Sort(sample, (a, b) => b.CompareTo(a));
            double q = (double)rank / n;
            int center = (int)(q * samples), margin = (int)(4 * Math.Sqrt(samples * q * (1 - q))) + 16;
            var upper = center - margin <= 0 ? T.PositiveInfinity : sample[center - margin];
            var lower = center + margin >= samples - 1 ? T.NegativeInfinity : sample[center + margin];
            var candidates = new T[Math.Max(samples, (int)Math.Min(n / 8, Array.MaxLength))];
            long above = 0, inside = 0;
            foreach (var part in parts)
            {
                ReadOnlySpan<T> v = MemoryMarshal.Cast<byte, T>(part.bytes);
                foreach (var x in v)
                {
                    if (x > upper) above++;
                    else if (x >= lower)
                    {
                        if (inside < candidates.Length) candidates[inside] = x;
                        inside++;
                    }
                }
            }
            if (above < rank && rank <= above + inside)
            {
                if (inside <= candidates.Length) return KthLargest(candidates.AsSpan(0, (int)inside), (int)(rank - above));
                if (lower == upper) return upper;
            }
        }
        // A copy to reorder (TorchSharp's cat returns a lone tensor itself).
        using var work = parts.Length == 1 ? parts[0].flatten().clone() : cat([.. parts.Select(p => p.flatten())]);
        return KthLargest(MemoryMarshal.Cast<byte, T>(work.bytes), (int)rank);
    }

    /// <summary>The k-th largest of <paramref name="v"/> (1-based; reorders it): quickselect with a three-way partition, pivots from a fixed xorshift sequence.</summary>
    internal static T KthLargest<T>(Span<T> v, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lo = 0, hi = v.Length - 1, target = k - 1;
        uint state = 2463534242;
        while (lo < hi)
        {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            var pivot = v[lo + (int)(state % (uint)(hi - lo + 1))];
            int above = lo, i = lo, below = hi;
            while (i <= below)
            {
                var x = v[i];
                if (x > pivot)
                {
                    v[i++] = v[above];
                    v[above++] = x;
                }
                else if (x < pivot)
                {
                    v[i] = v[below];
                    v[below--] = x;
                }
                else i++;
            }
            if (target < above) hi = above - 1;
            else if (target > below) lo = below + 1;
            else return pivot;
        }
        return v[lo];
    }
}
