using InitPrune.Engine;
using InitPrune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>
/// SynFlow (Tanaka et al. 2020), data-free: every parameter and buffer replaced by its absolute value, BatchNorm in
/// eval mode, an all-ones input (the batch's shape only), R = Σ outputs, score |θ ⊙ ∂R/∂θ|. Iterated n times with
/// the exponential schedule: after iteration k the kept fraction is (1 − s)^{k/n}; entries pruned earlier stay
/// pruned (score −1). Runs in float64, where R of deep nets overflows float32. Signs and values are restored.
/// </summary>
public sealed class SynFlowScorer(int iterations) : IMaskMethod
{
    public static readonly Param Iterations = Param.Integer("iterations", 100, "Pruning rounds of the exponential schedule (1 − s)^(k/n)",
        "Tanaka et al. 2020, Alg. 1", min: 1);

    public static readonly MethodInfo Info = new("synflow", "|θ ⊙ ∂R/∂θ| of the all-ones path sum, data-free and iterative (Tanaka et al. 2020)",
        [Iterations], o => new SynFlowScorer(o.Integer(Iterations)));

    public string Name => "synflow";
    public bool NeedsData => true;

    public Dictionary<string, Tensor> Score(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context) =>
        Run(model, targets, context, new PruneSpec(Name, 0), 1).Scores;

    public (Dictionary<string, Tensor> Scores, Mask Mask) ScoreAndSelect(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context, PruneSpec spec) =>
        Run(model, targets, context, spec, iterations);

    static (Dictionary<string, Tensor> Scores, Mask Mask) Run(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context, PruneSpec spec, int n)
    {
        var x = context.X ?? throw new ArgumentException("SynFlow needs the input shape of a batch");
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        var dtype = targets[0].Value.dtype;
        bool training = model.training;
        model.eval();
        model.to(ScalarType.Float64);
        try
        {
            Dictionary<string, Tensor>? keep = null, scores = null;
            using var input = ones([1, .. x.shape.Skip(1)], dtype: ScalarType.Float64, device: x.device);
            for (int k = 1; k <= n; k++)
            {
                using var iteration = NewDisposeScope();
                using (no_grad())
                    foreach (var (name, t) in model.state_dict())
                        if (t.is_floating_point()) t.copy_(state[name].abs());
                var current = ScoreOnce(model, targets, input, keep);
                double s = MaskBuilder.ExponentialSparsity(spec.Sparsity, k, n);
                var mask = MaskBuilder.FromScores([.. targets.Select(t => (t.Name, current[t.Name]))], s, spec.Scope);
                DisposeAll(keep);
                keep = mask.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.MoveToOuterDisposeScope());
                DisposeAll(scores);
                scores = current.ToDictionary(kv => kv.Key, kv => kv.Value.MoveToOuterDisposeScope());
            }
            DisposeAll(keep);
            var final = MaskBuilder.FromScores([.. targets.Select(t => (t.Name, scores![t.Name]))], spec.Sparsity, spec.Scope);
            return (scores!, final);
        }
        finally
        {
            model.to(dtype);
            using (no_grad())
                foreach (var (name, t) in model.state_dict()) t.copy_(state[name]);
            foreach (var t in state.Values) t.Dispose();
            model.train(training);
        }
    }

    /// <summary>One SynFlow pass on the linearized network with the current mask; pruned entries score −1.</summary>
    static Dictionary<string, Tensor> ScoreOnce(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, Tensor input, Dictionary<string, Tensor>? keep)
    {
        if (keep is not null)
            using (no_grad())
                foreach (var t in targets) t.Value.mul_(keep[t.Name]);
        model.zero_grad();
        using (var scope = NewDisposeScope()) model.forward(input).sum().backward();
        using var _ = no_grad();
        var scores = new Dictionary<string, Tensor>();
        foreach (var t in targets)
        {
            var s = (t.Value * t.Value.grad!).abs_();
            scores[t.Name] = keep is null ? s : s.masked_fill_(keep[t.Name].logical_not(), Scalars.MinusOne);
        }
        model.zero_grad();
        return scores;
    }

    static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null) return;
        foreach (var t in tensors.Values) t.Dispose();
    }
}
