using InitPrune.Engine;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>
/// Multi-shot SNIP and GraSP (Synaptic-Flow's <c>--prune-epochs n</c>; Tanaka et al. 2020 §7): n rounds of the
/// exponential schedule (<see cref="MaskBuilder.Iterate"/>, SynFlow's loop), round k keeping (1 − s)^(k/n) of the
/// entries by the one-shot score of the network with round k − 1's mask applied. Entries pruned in an earlier round
/// stay pruned (score −∞), so the masks only shrink; Synaptic-Flow's SNIP scores |∂L/∂mask|, nonzero for pruned
/// entries, so there they can grow back. The weights are restored after scoring.
/// </summary>
public sealed class MultiShotScorer(IScorer inner, int iterations) : IMaskMethod
{
    /// <summary>SynFlow's option (same key and flag), with the one-shot default, so that existing runs keep their ids.</summary>
    public static readonly Param Iterations = SynFlowScorer.Iterations with
    {
        Default = 1,
        Help = "Pruning rounds of the exponential schedule (1 − s)^(k/n), rescoring the masked network each round; 1: one-shot",
        Cite = "Tanaka et al. 2020 §7; Synaptic-Flow --prune-epochs",
        Since = 3,
    };

    /// <summary>The one-shot <paramref name="scorer"/> itself when <paramref name="n"/> is 1 (today's masks, bit for bit).</summary>
    public static IScorer Of(IScorer scorer, int n) => n == 1 ? scorer : new MultiShotScorer(scorer, n);

    public string Name => inner.Name;
    public bool NeedsData => inner.NeedsData;

    public void CheckModel(nn.Module<Tensor, Tensor> model) => inner.CheckModel(model);

    /// <summary>The one-shot scores of the unmasked network.</summary>
    public TensorDict Score(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context) =>
        inner.Score(model, targets, context);

    public (TensorDict Scores, Mask Mask) ScoreAndSelect(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context, PruneSpec spec)
    {
        using var dense = TensorDict.CloneOf(targets.Select(t => KeyValuePair.Create(t.Name, t.Value)));
        try
        {
            return MaskBuilder.Iterate([.. targets.Select(t => t.Name)], spec, iterations, Scalars.MinusInfinity, keep =>
            {
                if (keep is not null)
                    using (no_grad())
                        foreach (var t in targets) t.Value.copy_(dense[t.Name]).mul_(keep.Tensors[t.Name]);
                return inner.Score(model, targets, context);
            });
        }
        finally
        {
            using (no_grad())
                foreach (var t in targets) t.Value.copy_(dense[t.Name]);
        }
    }
}
