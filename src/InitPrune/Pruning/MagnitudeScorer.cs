using InitPrune.Engine;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>Magnitude-based pruning (MBP, seed 001 §2): score |W|.</summary>
public sealed class MagnitudeScorer : IScorer
{
    public static readonly MethodInfo Info = new("magnitude", "|W|: keep the largest weights at initialization (seed 002 §3)", [], _ => new MagnitudeScorer());

    public string Name => "magnitude";
    public bool NeedsData => false;

    public TensorDict Score(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context)
    {
        using var _ = no_grad();
        return targets.ToTensorDict(t => t.Name, t => t.Value.abs());
    }
}
