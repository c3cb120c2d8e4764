using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>
/// GraSP (Wang et al. 2020; compared in seeds 000/001): with g = ∇L and H the Hessian of the loss (logits divided
/// by a temperature T = 200), the reference code removes the weights with the LARGEST S = −θ ⊙ Hg (pruning them
/// preserves, or increases, the gradient flow gᵀg). Our convention keeps the highest scores, so the score is
/// −S = θ ⊙ Hg. The reference divides S by |ΣS|, a positive factor that changes no ranking, so it is omitted.
/// Scores are computed in float64 (model, batch and Hg), as SynFlow's are: libtorch's float32 double-backward
/// convolutions were off by up to 17% on some CPUs, which flipped signs of scores (issue 9).
/// </summary>
public sealed class GraspScorer(double temperature) : IScorer
{
    public static readonly Param Temperature = Param.Number("temperature", 200, "The logits are divided by this temperature before the loss",
        "Wang et al. 2020, reference code", min: 0, minOpen: true);

    public static readonly MethodInfo Info = new("grasp", "θ ⊙ Hg, keeping the weights whose removal most reduces gradient flow (Wang et al. 2020; seeds 000/001)",
        [Temperature], o => new GraspScorer(o.Number(Temperature)));

    public string Name => "grasp";
    public bool NeedsData => true;

    public TensorDict Score(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context)
    {
        var (x, y) = (context.X ?? throw new ArgumentException("GraSP needs a mini-batch"), context.Y!);
        var dtype = targets[0].Value.dtype;
        model.to(ScalarType.Float64);
        try
        {
            using var x64 = x.is_floating_point() ? x.to(ScalarType.Float64) : x.alias();
            using var y64 = y.is_floating_point() ? y.to(ScalarType.Float64) : y.alias();
            using var hg = HessianGradient(model, targets, context with { X = x64, Y = y64 }, temperature);
            using (no_grad())
                foreach (var t in targets) hg[t.Name].mul_(t.Value);
            return hg.TakeAll();
        }
        finally
        {
            model.to(dtype);
        }
    }

    /// <summary>
    /// Hg by double backward, as the reference: g = ∇L (detached), then ∇(∇L · g) with create_graph, one
    /// Hessian-vector product over the target tensors.
    /// </summary>
    public static TensorDict HessianGradient(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context, double temperature)
    {
        var (x, y) = (context.X ?? throw new ArgumentException("GraSP needs a mini-batch"), context.Y!);
        Tensor[] ps = [.. targets.Select(t => t.Value)];
        model.zero_grad();
        using var scope = NewDisposeScope();
        Tensor Loss()
        {
            var output = model.forward(x);
            return context.Kind == TaskKind.Classification
                ? nn.functional.cross_entropy(output / temperature, y)
                : nn.functional.mse_loss(output, y);
        }
        var g = autograd.grad([Loss()], ps).Select(t => t.detach()).ToArray();
        var gradF = autograd.grad([Loss()], ps, retain_graph: true, create_graph: true);
        var z = gradF.Zip(g, (a, b) => (a * b).sum()).Aggregate((a, b) => a + b);
        var hg = autograd.grad([z], ps);
        return targets.Select((t, i) => (t.Name, Hg: hg[i].detach().clone())).ToTensorDict(p => p.Name, p => p.Hg).MoveToOuterDisposeScope();
    }
}
