using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>
/// SNIP / sensitivity-based pruning (Lee et al. 2019; seed 001 §2): score |W ⊙ ∂L/∂W| with L the batch-mean
/// loss (cross-entropy for classification, MSE for regression) on one mini-batch; on several batches L is the mean
/// of their losses (the gradients of each batch's loss / B, accumulated).
/// </summary>
public sealed class SnipScorer : IScorer
{
    public static readonly MethodInfo Info = new("snip", "|W ⊙ ∂L/∂W| on one mini-batch (Lee et al. 2019; seed 001 §2); multi-shot with iterations > 1",
        [MultiShotScorer.Iterations], o => MultiShotScorer.Of(new SnipScorer(), o.Integer(MultiShotScorer.Iterations)));

    public string Name => "snip";
    public bool NeedsData => true;

    public TensorDict Score(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context)
    {
        var batches = context.All;
        if (batches.Count == 0) throw new ArgumentException("SNIP needs a mini-batch");
        model.zero_grad();
        foreach (var (x, y) in batches)
        {
            using var scope = NewDisposeScope();
            var output = model.forward(x);
            var loss = context.Kind == TaskKind.Classification
                ? nn.functional.cross_entropy(output, y)
                : nn.functional.mse_loss(output, y);
            (batches.Count == 1 ? loss : loss / batches.Count).backward();
        }
        using var _ = no_grad();
        var scores = targets.ToTensorDict(t => t.Name, t =>
        {
            using var grad = t.Value.grad!;
            return (t.Value * grad).abs_();
        });
        model.zero_grad();
        return scores;
    }
}
