using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Theory;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>
/// Weak lottery ticket (seed 001 Theorems 3/4): keep each weight of every layer independently with probability
/// p = σ²_{w,EOC}/σ²_w, so the subnetwork is on the EOC. The requested sparsity is ignored: σ_w fixes it (1 − p).
/// Scores are p − U with U ~ U[0,1); the Bernoulli mask (score > 0) is built directly, not by top-k. Biases are kept.
/// </summary>
public sealed class WlthMethod(MethodOptions options) : IMaskMethod
{
    public string Name => "wlth";
    public bool NeedsData => false;

    /// <summary>Seed 001 Theorem 3: p = σ²_{w,EOC}(σ_b)/σ²_w.</summary>
    public double KeepProbability => KeepProbabilities.ForAll(
        EdgeOfChaos.SigmaW(options.Activation, options.SigmaB),
        options.SigmaW ?? throw new InitPruneException("wlth needs the initialization's sigma_w (--sigma-w) to compute its keep probability"));

    public TensorDict Score(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context)
    {
        double p = KeepProbability;
        using var gen = new Generator((ulong)context.Seed);
        return targets.ToTensorDict(t => t.Name, t =>
        {
            if (t.IsBias) return ones(t.Value.shape, device: t.Value.device);
            using var scope = NewDisposeScope();
            return (p - rand(t.Value.shape, generator: gen)).to(t.Value.device).MoveToOuterDisposeScope();
        });
    }

    public (TensorDict Scores, Mask Mask) ScoreAndSelect(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context, PruneSpec spec)
    {
        using var scores = Score(model, targets, context);
        var mask = new Mask(scores.ToTensorDict(kv => kv.Key, kv => kv.Value.gt(0)));
        return (scores.TakeAll(), mask);
    }
}
