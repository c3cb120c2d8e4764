using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Theory;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>
/// Weak lottery ticket (seed 001 Theorems 3/4): keep each weight of every layer independently with probability
/// p = σ²_{w,EOC}/σ²_w, so the subnetwork is on the EOC. The requested sparsity is ignored: σ_w fixes it (1 − p).
/// Scores are p − U with U ~ U[0,1); the Bernoulli mask (score > 0) is built directly, not by top-k. Biases are kept.
/// </summary>
public sealed class WlthMethod : IMaskMethod
{
    readonly MethodOptions options;

    /// <summary>With the initialization given, an impossible keep probability is refused here, before any scoring.</summary>
    public WlthMethod(MethodOptions options)
    {
        this.options = options;
        if (options.Init is not null) _ = KeepProbability;
    }

    public static readonly MethodInfo Info = new("wlth", "Bernoulli keep p = σ²_w,EOC/σ²_w, onto the Edge of Chaos; ignores the sparsity (seed 001 Theorems 3/4)",
        [], o => new WlthMethod(o), IgnoresSparsity: true,
        NoBatchNorm: "its keep probability σ²_w,EOC/σ²_w is that of weight matrices at the Edge of Chaos (seed 001 Theorem 3), not of BatchNorm scales");

    public string Name => "wlth";
    public bool NeedsData => false;

    /// <summary>Seed 001 Theorem 3: p = σ²_{w,EOC}(σ_b)/σ²_w.</summary>
    public double KeepProbability => KeepProbabilities.ForAll(
        EdgeOfChaos.SigmaW(Init.Activation ?? "relu", Init.SigmaB), Init.SigmaW);

    InitSpec Init => options.Init ?? throw new InitPruneException("wlth needs the initialization (its sigma_w, sigma_b and activation) to compute its keep probability");

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
