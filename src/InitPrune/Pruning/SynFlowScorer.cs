using InitPrune.Engine;
using InitPrune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>
/// SynFlow (Tanaka et al. 2020), data-free: every parameter and buffer replaced by its absolute value, BatchNorm in
/// eval mode, an all-ones input (the batch's shape only), R = Σ outputs, score |θ ⊙ ∂R/∂θ|. Iterated n times with
/// the exponential schedule: after iteration k the kept fraction is (1 − s)^{k/n}; entries pruned earlier stay
/// pruned (score −1; the rounds are <see cref="MaskBuilder.Iterate"/>'s). Runs in float64, where R of deep nets overflows
/// float32. Signs and values are restored.
/// </summary>
public sealed class SynFlowScorer(int iterations) : IMaskMethod
{
    public static readonly Param Iterations = Param.Integer("iterations", 100, "Pruning rounds of the exponential schedule (1 − s)^(k/n)",
        "Tanaka et al. 2020, Alg. 1", min: 1);

    public static readonly MethodInfo Info = new("synflow", "|θ ⊙ ∂R/∂θ| of the all-ones path sum, data-free and iterative (Tanaka et al. 2020)",
        [Iterations], o => new SynFlowScorer(o.Integer(Iterations)));

    public string Name => "synflow";
    public bool NeedsData => true;

    public TensorDict Score(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context)
    {
        var (scores, mask) = Run(model, targets, context, new PruneSpec(Name, 0), 1);
        mask.Dispose();
        return scores;
    }

    public (TensorDict Scores, Mask Mask) ScoreAndSelect(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context, PruneSpec spec) =>
        Run(model, targets, context, spec, iterations);

    static (TensorDict Scores, Mask Mask) Run(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context, PruneSpec spec, int n)
    {
        var x = context.X ?? throw new ArgumentException("SynFlow needs the input shape of a batch");
        using var state = TensorDict.CloneOf(model.state_dict());
        var dtype = targets[0].Value.dtype;
        bool training = model.training;
        model.eval();
        model.to(ScalarType.Float64);
        try
        {
            using var input = ones([1, .. x.shape.Skip(1)], dtype: ScalarType.Float64, device: x.device);
            return MaskBuilder.Iterate([.. targets.Select(t => t.Name)], spec, n, Scalars.MinusOne, keep =>
            {
                // Round 1 linearizes (|θ|); later rounds find the targets at |θ| times every earlier mask, and the
                // masks only shrink (pruned entries score −1, below every |θ ⊙ ∂R/∂θ|), so ScoreOnce's product with
                // this round's mask is exactly |θ| ⊙ mask: no copy of the state per round.
                if (keep is null)
                    using (no_grad())
                        foreach (var (name, t) in model.state_dict())
                            if (t.is_floating_point())
                                using (var magnitude = state[name].abs())
                                    t.copy_(magnitude);
                return ScoreOnce(model, targets, input, keep);
            });
        }
        finally
        {
            model.to(dtype);
            using (no_grad())
                foreach (var (name, t) in model.state_dict()) t.copy_(state[name]);
            model.train(training);
        }
    }

    /// <summary>One SynFlow pass on the linearized network with the current mask applied.</summary>
    static TensorDict ScoreOnce(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, Tensor input, Mask? keep)
    {
        if (keep is not null)
            using (no_grad())
                foreach (var t in targets) t.Value.mul_(keep.Tensors[t.Name]);
        model.zero_grad();
        using (var scope = NewDisposeScope()) model.forward(input).sum().backward();
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
