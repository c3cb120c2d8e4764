using System.Runtime.InteropServices;
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

    /// <summary>
    /// 1 at the <see cref="KeepCount"/> largest entries of a 1-D tensor, the earlier entry winning ties (what a stable
    /// descending sort keeps). Selection, not sorting: on the CPU <see cref="SelectInto"/>; elsewhere the k-th largest
    /// value t (kthvalue), every entry above t, then the first entries equal to t until k.
    /// </summary>
    static Tensor TopK(Tensor magnitudes, double keptFraction, ScalarType dtype)
    {
        long n = magnitudes.numel(), k = KeepCount(keptFraction, n);
        if (k == n) return ones(n, dtype: dtype, device: magnitudes.device);
        if (magnitudes.device_type == TorchSharp.DeviceType.CPU && magnitudes.dtype == ScalarType.Float32 && n <= Array.MaxLength)
        {
            var source = magnitudes.contiguous();
            var keep = zeros(n, dtype: ScalarType.Float32);
            SelectInto(MemoryMarshal.Cast<byte, float>(source.bytes), MemoryMarshal.Cast<byte, float>(keep.bytes), [[(0, (int)n)]], keptFraction);
            return dtype == ScalarType.Float32 ? keep : keep.to(dtype);
        }
        var (threshold, _) = magnitudes.kthvalue(n - k + 1, 0, false);
        var kept = magnitudes.gt(threshold);
        long ties = k - kept.sum().item<long>();
        if (ties > 0)
            kept.index_fill_(0, magnitudes.eq(threshold).nonzero().flatten().narrow(0, 0, ties), Scalars.One);
        return kept.to(dtype);
    }

    [ThreadStatic] static float[]? scratch;

    /// <summary>
    /// The selection in managed code, for edge-popup's every step: <paramref name="scores"/> and <paramref name="mask"/>
    /// are flat, each group a list of (offset, length) segments ranked as one (in segment order, then index). Per group
    /// the k-th largest |s| (quickselect), then 1 in <paramref name="mask"/> at every |s| above it and at the first
    /// entries equal to it until k; 0 elsewhere. Entries in no group are left as they are.
    /// </summary>
    public static void SelectInto(ReadOnlySpan<float> scores, Span<float> mask, IReadOnlyList<IReadOnlyList<(int Offset, int Length)>> groups, double keptFraction)
    {
        foreach (var group in groups)
        {
            int n = group.Sum(g => g.Length);
            if (scratch is null || scratch.Length < n) scratch = new float[n];
            var work = scratch.AsSpan(0, n);
            int at = 0;
            foreach (var (offset, length) in group)
                for (int i = 0; i < length; i++)
                {
                    float v = MathF.Abs(scores[offset + i]);
                    if (float.IsNaN(v)) throw new DivergenceException("edge-popup's scores hold NaN: the score training diverged; lower --lr");
                    work[at++] = v;
                }
            long k = KeepCount(keptFraction, n);
            float threshold = MaskBuilder.KthLargest<float>(work, (int)k);
            long kept = 0;
            foreach (var (offset, length) in group)
                for (int i = offset; i < offset + length; i++)
                {
                    bool above = MathF.Abs(scores[i]) > threshold;
                    mask[i] = above ? 1f : 0f;
                    if (above) kept++;
                }
            foreach (var (offset, length) in group)
                for (int i = offset; i < offset + length && kept < k; i++)
                {
                    if (MathF.Abs(scores[i]) != threshold) continue;
                    mask[i] = 1f;
                    kept++;
                }
        }
    }
}
