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
/// convolutions were off by up to 17% on some CPUs, which flipped signs of scores (issue 9). On several batches, L
/// is the mean of their losses: g = mean of the batches' gradients, Hg = mean of the batches' Hessians times g (as
/// Synaptic-Flow's GraSP, which sums both, a positive factor).
/// </summary>
public sealed class GraspScorer(double temperature) : IScorer
{
    public static readonly Param Temperature = Param.Number("temperature", 200, "The logits are divided by this temperature before the loss",
        "Wang et al. 2020, reference code", min: 0, minOpen: true);

    public static readonly MethodInfo Info = new("grasp", "θ ⊙ Hg, keeping the weights whose removal most reduces gradient flow (Wang et al. 2020; seeds 000/001)",
        [Temperature, MultiShotScorer.Iterations], o => MultiShotScorer.Of(new GraspScorer(o.Number(Temperature)), o.Integer(MultiShotScorer.Iterations)));

    public string Name => "grasp";
    public bool NeedsData => true;

    public TensorDict Score(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context)
    {
        if (context.All.Count == 0) throw new ArgumentException("GraSP needs a mini-batch");
        var dtype = targets[0].Value.dtype;
        model.to(ScalarType.Float64);
        using var converted = NewDisposeScope();
        try
        {
            List<(Tensor X, Tensor Y)> b64 = [.. context.All.Select(b => (To64(b.X), To64(b.Y)))];
            using var hg = HessianGradient(model, targets, context with { X = b64[0].X, Y = b64[0].Y, Batches = b64 }, temperature);
            using (no_grad())
                foreach (var t in targets) hg[t.Name].mul_(t.Value);
            return hg.TakeAll().MoveToOuterDisposeScope();
        }
        finally
        {
            model.to(dtype);
        }
    }

    static Tensor To64(Tensor t) => t.is_floating_point() ? t.to(ScalarType.Float64) : t.alias();

    /// <summary>
    /// Hg by double backward, as the reference: g = ∇L (detached), then ∇(∇L · g) with create_graph, one
    /// Hessian-vector product over the target tensors; on several batches, of their mean loss.
    /// </summary>
    public static TensorDict HessianGradient(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context, double temperature)
    {
        var batches = context.All;
        if (batches.Count == 0) throw new ArgumentException("GraSP needs a mini-batch");
        Tensor[] ps = [.. targets.Select(t => t.Value)];
        model.zero_grad();
        using var scope = NewDisposeScope();
        Tensor Loss(Tensor x, Tensor y)
        {
            var output = model.forward(x);
            return context.Kind == TaskKind.Classification
                ? nn.functional.cross_entropy(output / temperature, y)
                : nn.functional.mse_loss(output, y);
        }
        if (batches.Count == 1)
        {
            var (x, y) = batches[0];
            var g = autograd.grad([Loss(x, y)], ps).Select(t => t.detach()).ToArray();
            var gradF = autograd.grad([Loss(x, y)], ps, retain_graph: true, create_graph: true);
            var z = gradF.Zip(g, (a, b) => (a * b).sum()).Aggregate((a, b) => a + b);
            var hg = autograd.grad([z], ps);
            return targets.Select((t, i) => (t.Name, Hg: hg[i].detach().clone())).ToTensorDict(p => p.Name, p => p.Hg).MoveToOuterDisposeScope();
        }
        var mean = ps.Select(p => zeros_like(p)).ToArray();
        foreach (var (x, y) in batches)
        {
            using var step = NewDisposeScope();
            var gb = autograd.grad([Loss(x, y)], ps);
            for (int i = 0; i < ps.Length; i++) mean[i].add_(gb[i].detach());
        }
        foreach (var m in mean) m.div_(batches.Count);
        var total = ps.Select(p => zeros_like(p)).ToArray();
        foreach (var (x, y) in batches)
        {
            using var step = NewDisposeScope();
            var gradF = autograd.grad([Loss(x, y)], ps, retain_graph: true, create_graph: true);
            var z = gradF.Zip(mean, (a, b) => (a * b).sum()).Aggregate((a, b) => a + b);
            var hg = autograd.grad([z], ps);
            for (int i = 0; i < ps.Length; i++) total[i].add_(hg[i].detach());
        }
        return targets.Select((t, i) => (t.Name, Hg: total[i].div_(batches.Count).clone())).ToTensorDict(p => p.Name, p => p.Hg).MoveToOuterDisposeScope();
    }
}
