using InitPrune.Engine;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>
/// Seed 003 §4 (Theorems 1/2): in each hidden layer 1 &lt; k &lt; l prune ⌊D_k^{1−α}⌋ of its D_k weights, the
/// first and last layers untouched. Magnitude: the smallest |W|. Random: that many entries drawn uniformly WITH
/// replacement (footnote 3), so fewer distinct entries may go. The requested sparsity is ignored; the counts are
/// selected by <see cref="MaskBuilder.FromCounts"/>. Convolution weights [d', d, q, q] are pruned by whole 2-D
/// kernels (seed 003 §5, Theorem 3 and App. B.3): ⌊(d'·d)^{1−α/2}⌋ (= ⌊d^{2−α}⌋ for d' = d) kernels, drawn with
/// replacement (random) or those of smallest L1 norm (magnitude). Biases are kept.
/// </summary>
public sealed class Seed003Method(bool magnitude, double alpha) : IMaskMethod
{
    public static readonly Param Alpha = Param.Number("alpha", 0.5, "Prune ⌊D^(1−α)⌋ of the D weights of each hidden layer",
        "seed 003 §4, Theorems 1/2", min: 0, minOpen: true, max: 1);

    public static readonly MethodInfo Random = new("seed003-random", "⌊D^(1−α)⌋ weights per hidden layer drawn with replacement; ignores the sparsity (seed 003 §4)",
        [Alpha], o => new Seed003Method(magnitude: false, o.Number(Alpha)), IgnoresSparsity: true, NoBatchNorm: NoBatchNorm);

    public static readonly MethodInfo Magnitude = new("seed003-magnitude", "the ⌊D^(1−α)⌋ smallest |W| per hidden layer; ignores the sparsity (seed 003 §4)",
        [Alpha], o => new Seed003Method(magnitude: true, o.Number(Alpha)), IgnoresSparsity: true, NoBatchNorm: NoBatchNorm);

    const string NoBatchNorm = "its counts ⌊D^(1−α)⌋ come from the fan-in D of hidden weight matrices (seed 003 §4), which a BatchNorm scale has not";

    public string Name => magnitude ? "seed003-magnitude" : "seed003-random";
    public bool NeedsData => false;

    /// <summary>⌊D^{1−α}⌋, guarded against pow rounding just below an integer.</summary>
    public static long PruneCount(long d, double alpha) => (long)Math.Floor(Math.Pow(d, 1 - alpha) * (1 + 1e-12));

    /// <summary>Kernels pruned in a convolution with <paramref name="kernels"/> = d'·d kernels: ⌊kernels^{1−α/2}⌋.</summary>
    public static long KernelPruneCount(long kernels, double alpha) => PruneCount(kernels, alpha / 2);

    static bool IsConv(PrunableTensor t) => t.Value.dim() == 4;

    /// <summary>
    /// Magnitude: |W| (per kernel: its L1 norm). Random: −(times drawn), so undrawn entries or kernels (score 0)
    /// rank first. Kernel scores are repeated over the kernel's q×q entries, which are contiguous, so exact counts
    /// select whole kernels.
    /// </summary>
    public TensorDict Score(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context)
    {
        var hidden = Hidden(targets);
        using var gen = new Generator((ulong)context.Seed);
        using var _ = no_grad();
        return targets.ToTensorDict(t => t.Name, t =>
        {
            long d = t.Count;
            if (!hidden.Contains(t.Name)) return ones(t.Value.shape, device: t.Value.device);
            if (IsConv(t)) return KernelScores(t.Value, gen);
            if (magnitude) return t.Value.abs();
            using var scope = NewDisposeScope();
            var picks = randint(0, d, [PruneCount(d, alpha)], generator: gen);
            return picks.bincount(null, d).neg().to(t.Value.dtype).reshape(t.Value.shape).to(t.Value.device).MoveToOuterDisposeScope();
        });
    }

    public (TensorDict Scores, Mask Mask) ScoreAndSelect(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context, PruneSpec spec)
    {
        var hidden = Hidden(targets);
        using var scores = Score(model, targets, context);
        var keep = targets.ToDictionary(t => t.Name, t => !hidden.Contains(t.Name) ? t.Count
            : magnitude && IsConv(t) ? t.Count - KernelPruneCount(t.Value.shape[0] * t.Value.shape[1], alpha) * t.Value.shape[2] * t.Value.shape[3]
            : magnitude ? t.Count - PruneCount(t.Count, alpha)
            : Undrawn(scores[t.Name]));
        var mask = MaskBuilder.FromCounts([.. targets.Select(t => (t.Name, scores[t.Name]))], keep);
        return (scores.TakeAll(), mask);
    }

    /// <summary>Entries never drawn (score 0): the ones random pruning keeps.</summary>
    static long Undrawn(Tensor scores)
    {
        using var zero = scores.eq(0);
        return zero.count_nonzero().item<long>();
    }

    Tensor KernelScores(Tensor w, Generator gen)
    {
        long kernels = w.shape[0] * w.shape[1];
        using var scope = NewDisposeScope();
        var perKernel = magnitude
            ? w.abs().sum([2, 3]).flatten()
            : randint(0, kernels, [KernelPruneCount(kernels, alpha)], generator: gen).bincount(null, kernels).neg().to(w.dtype).to(w.device);
        return perKernel.reshape(w.shape[0], w.shape[1], 1, 1).expand(w.shape).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Names of the weights of layers 2 … l−1 (forward order).</summary>
    static HashSet<string> Hidden(IReadOnlyList<PrunableTensor> targets)
    {
        var weights = targets.Where(t => !t.IsBias).Select(t => t.Name).ToList();
        return [.. weights.Skip(1).Take(Math.Max(0, weights.Count - 2))];
    }
}
