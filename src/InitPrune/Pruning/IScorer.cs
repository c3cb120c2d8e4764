using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>
/// What a scorer may use: a mini-batch (data-driven methods) and a seed (random methods). <see cref="Batches"/>, when
/// given, holds every scoring batch (the first is <see cref="X"/>, <see cref="Y"/>); data-driven scores then use the
/// mean loss over all of them.
/// </summary>
public sealed record ScoringContext(Tensor? X, Tensor? Y, TaskKind Kind, long Seed, IReadOnlyList<(Tensor X, Tensor Y)>? Batches = null)
{
    /// <summary>Every scoring batch: <see cref="Batches"/>, else the one (X, Y).</summary>
    public IReadOnlyList<(Tensor X, Tensor Y)> All => Batches ?? (X is null || Y is null ? [] : [(X, Y)]);
}

/// <summary>Computes one score per prunable entry; higher scores are kept.</summary>
public interface IScorer
{
    string Name { get; }

    /// <summary>True when <see cref="Score"/> needs <see cref="ScoringContext.X"/> and <see cref="ScoringContext.Y"/>.</summary>
    bool NeedsData { get; }

    /// <summary>Scores with the shape of each target tensor, keyed by its name, in target order; the caller owns them.</summary>
    TensorDict Score(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context);

    /// <summary>Refuses a model this method does not apply to (one-line error); called before any data is read.</summary>
    void CheckModel(nn.Module<Tensor, Tensor> model) { }
}

/// <summary>
/// A method whose mask is not simply the top entries of one score at the requested sparsity: it needs the spec
/// while scoring (iterative SynFlow) or chooses its own per-layer counts or Bernoulli masks (seed 003, wlth).
/// </summary>
public interface IMaskMethod : IScorer
{
    /// <summary>The scores (as <see cref="IScorer.Score"/>) and the mask, not yet applied to the model; the caller owns both.</summary>
    (TensorDict Scores, Mask Mask) ScoreAndSelect(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context, PruneSpec spec);
}
