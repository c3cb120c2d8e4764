using InitPrune.Engine;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>Random pruning: i.i.d. U[0,1) scores from a generator seeded by the context.</summary>
public sealed class RandomScorer : IScorer
{
    public static readonly MethodInfo Info = new("random", "uniform random scores: a uniformly random mask (seeds 000/001 baseline)", [], _ => new RandomScorer());

    public string Name => "random";
    public bool NeedsData => false;

    public TensorDict Score(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context)
    {
        using var gen = new Generator((ulong)context.Seed);
        return targets.ToTensorDict(t => t.Name, t =>
        {
            using var scope = NewDisposeScope();
            return rand(t.Value.shape, generator: gen).to(t.Value.device).MoveToOuterDisposeScope();
        });
    }
}
