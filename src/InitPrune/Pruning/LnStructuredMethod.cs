using InitPrune.Engine;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>
/// Structured pruning of whole output channels/units, as <c>torch.nn.utils.prune.ln_structured(module, 'weight',
/// amount=s, n=norm, dim=0)</c> applied to every masked layer: each layer removes round(s·C) of its C slices along
/// dim 0 (convolution filters, linear rows) with the smallest L_n norm over all other dims, Python's round (half to
/// even) as torch's <c>_compute_nparams_toprune</c>; the mask zeroes whole slices. Layer-wise only (torch's
/// semantics; global scope is refused: norms of layers of different fan-in do not compare). The output layer stays
/// dense: its units are the classes. A layer's bias, when pruned too, follows its units. Ties keep the earlier slice.
/// </summary>
public sealed class LnStructuredMethod(int norm) : IMaskMethod
{
    public static readonly Param Norm = Param.Integer("norm", 2, "L_n norm ranking each output channel/unit (1 or 2)",
        "torch.nn.utils.prune.ln_structured", min: 1, max: 2);

    public static readonly MethodInfo Info = new("ln-structured", "whole output channels/units of smallest L_n norm, round(s·C) per layer, output layer dense (torch ln_structured, dim 0)",
        [Norm], o => new LnStructuredMethod(o.Integer(Norm)), Check: CheckSpec,
        NoBatchNorm: "it ranks the output channels of conv and linear layers by their filters' norms, and a BatchNorm scale has no filter");

    public string Name => "ln-structured";
    public bool NeedsData => false;

    /// <summary>Slices pruned out of <paramref name="slices"/> at amount <paramref name="amount"/>: round(amount·slices), half to even.</summary>
    public static long PruneCount(double amount, long slices) => (long)Math.Round(amount * slices, MidpointRounding.ToEven);

    static void CheckSpec(PruneSpec spec)
    {
        if (spec.Scope == PruneScope.Global)
            throw new InitPruneException("ln-structured prunes each layer by its own channels, as torch's ln_structured: use --scope layer-wise (scope: layer-wise in a spec)");
        if (spec.KeepRule != KeepRule.Stable)
            throw new InitPruneException("ln-structured counts whole channels as torch's ln_structured does (round(s·C) pruned per layer); keep_rule reference applies to entry-wise methods");
    }

    /// <summary>Each entry scored by the L_n norm (summed in float64) of its output slice, a bias entry by its unit's; the caller owns them.</summary>
    public TensorDict Score(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context)
    {
        using var _ = no_grad();
        return targets.ToTensorDict(t => t.Name, t =>
        {
            using var scope = NewDisposeScope();
            var rows = t.Layer.Weight.flatten(1).to(ScalarType.Float64);
            var perUnit = (norm == 1 ? rows.abs().sum(1) : rows.square().sum(1).sqrt()).to(t.Value.dtype);
            var shape = t.Value.shape;
            var broadcast = t.IsBias ? perUnit : perUnit.reshape([shape[0], .. Enumerable.Repeat(1L, shape.Length - 1)]).expand(shape);
            return broadcast.contiguous().MoveToOuterDisposeScope();
        });
    }

    /// <summary>
    /// Keeps C − round(s·C) whole slices per tensor: their entries are contiguous in row-major order and equal in
    /// score, so the top entries by stable ranking are exactly the top slices.
    /// </summary>
    public (TensorDict Scores, Mask Mask) ScoreAndSelect(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context, PruneSpec spec)
    {
        CheckSpec(spec);
        var output = Network.Prunable(model).LastOrDefault()?.Layer;
        using var scores = Score(model, targets, context);
        var keep = targets.ToDictionary(t => t.Name, t =>
        {
            long slices = t.Value.shape[0];
            long pruned = t.Layer == output ? 0 : PruneCount(spec.Sparsity, slices);
            return (slices - pruned) * (t.Count / slices);
        });
        var mask = MaskBuilder.FromCounts([.. targets.Select(t => (t.Name, scores[t.Name]))], keep);
        return (scores.TakeAll(), mask);
    }
}
