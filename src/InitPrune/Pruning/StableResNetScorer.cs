using InitPrune.Engine;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>A residual network that says whether it uses seed 001's Stable ResNet scaling (branches scaled by 1/√L).</summary>
public interface IStableResNet
{
    bool Stable { get; }
}

/// <summary>
/// Seed 001 §3/§4: SBP-SR (SNIP on a Stable ResNet) and GraSP-SR. The scoring is SNIP's or GraSP's unchanged; the
/// method only insists that the model is a Stable ResNet, where the theory says SBP is well-conditioned.
/// </summary>
public sealed class StableResNetScorer(string name, IScorer inner) : IScorer
{
    public static readonly MethodInfo SbpSr = new("sbp-sr", "SNIP on a Stable ResNet (seed 001 §3/§4)", [], _ => new StableResNetScorer("sbp-sr", new SnipScorer()));

    public static readonly MethodInfo GraspSr = new("grasp-sr", "GraSP on a Stable ResNet (seed 001 §4)", [GraspScorer.Temperature],
        o => new StableResNetScorer("grasp-sr", new GraspScorer(o.Number(GraspScorer.Temperature))));

    public string Name => name;
    public bool NeedsData => inner.NeedsData;

    public TensorDict Score(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context)
    {
        CheckModel(model);
        return inner.Score(model, targets, context);
    }

    public void CheckModel(nn.Module<Tensor, Tensor> model)
    {
        if (model is not IStableResNet { Stable: true })
            throw new InitPruneException($"method '{name}' prunes a Stable ResNet (seed 001 §3): build one (a ResNet with stable scaling) or use '{inner.Name}'");
    }
}
