using InitPrune.Engine;
using InitPrune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Theory.Jacobian;

/// <summary>
/// The spectral norm ‖J‖ (largest singular value) of a network's Jacobian at one input, without forming J: power
/// iteration on JᵀJ with vector–Jacobian products (one backward pass) and Jacobian–vector products (the
/// double-backward trick: Jᵀu is linear in u, so ∂⟨Jᵀu, w⟩/∂u = Jw). The model is measured as it is — masks,
/// rescaled weights, edge-popup overrides — in evaluation mode (BatchNorm with its running statistics, so each
/// input has its own Jacobian); its mode is restored afterwards and no parameter gradient is touched. Vectors have
/// the model's dtype: float64 models give ~1e-12 residuals, float32 ones ~1e-6 at best.
/// </summary>
public static class JacobianNorm
{
    /// <summary>
    /// σ̂ = ‖J v_k‖ for unit v_k, v_{k+1} = JᵀJv_k/‖JᵀJv_k‖, from a Gaussian v_0 drawn from options.Seed. Stops when
    /// ‖JᵀJv_k − σ̂²v_k‖ ≤ Tolerance·σ̂²: then σ̂² lies within Tolerance·σ̂² of an eigenvalue of JᵀJ (a symmetric
    /// matrix's Rayleigh quotient is that close to its spectrum), i.e. σ̂ within ≈Tolerance/2 of a singular value —
    /// the largest one for almost every v_0. σ̂ never exceeds ‖J‖. When the top two singular values are close the
    /// residual shrinks slowly and the estimate may end with Converged = false (σ̂ is then still a lower bound).
    /// </summary>
    public static JacobianEstimate Estimate(nn.Module<Tensor, Tensor> model, Tensor input, JacobianOptions options)
    {
        options.Validate();
        using var mode = new EvaluationMode(model);
        using var grad = enable_grad();
        using var scope = NewDisposeScope();
        var (z, y) = Map(model, input, options.Span);
        if (!y.requires_grad) return new JacobianEstimate(0, 0, 0, true);
        var u = zeros_like(y).requires_grad_(true);
        var jtu = autograd.grad([y], [z], [u], retain_graph: true, create_graph: true)[0]; // Jᵀu, linear in u
        if (!jtu.requires_grad) return new JacobianEstimate(0, 0, 0, true);
        var v = StartVector(z, options.Seed);
        double previous = double.NaN, change = double.NaN;
        for (int k = 1; k <= options.MaxIterations; k++)
        {
            using var step = NewDisposeScope();
            // Vectors stay of norm ~1 or ~σ̂ and norms are taken in float64, so float32 models measure ‖J‖ far beyond
            // float32's range of σ̂² (seed 002 Fig. 1 reaches 1e-21 … 1e12 at depth 80).
            var jv = autograd.grad([jtu], [u], [v], retain_graph: true)[0];        // J v (double backward)
            double sigma = Norm(jv);                                              // σ̂ = ‖Jv‖, ‖v‖ = 1
            if (sigma == 0 || !double.IsFinite(sigma)) return new JacobianEstimate(sigma == 0 ? 0 : double.NaN, k, 0, sigma == 0);
            using var inverse = (1 / sigma).ToScalar();
            var jtw = autograd.grad([y], [z], [jv.mul(inverse)], retain_graph: true)[0]; // JᵀJv / σ̂
            double residual = Norm(jtw.mul(inverse).sub(v));                      // ‖JᵀJv − σ̂²v‖ / σ̂²
            change = Math.Abs(sigma - previous) / sigma;
            previous = sigma;
            if (residual <= options.Tolerance) return new JacobianEstimate(sigma, k, double.IsNaN(change) ? 0 : change, true);
            var next = jtw.div(Norm(jtw)).MoveToOuterDisposeScope();
            v.Dispose();
            v = next;
        }
        return new JacobianEstimate(previous, options.MaxIterations, double.IsNaN(change) ? 0 : change, false);
    }

    /// <summary>
    /// <see cref="Estimate"/> at each input of the batch <paramref name="inputs"/> (first dimension: inputs), each
    /// from the same start seed: the per-input norms and their mean ± std.
    /// </summary>
    public static JacobianSummary Average(nn.Module<Tensor, Tensor> model, Tensor inputs, JacobianOptions options)
    {
        if (inputs.dim() < 2 || inputs.shape[0] < 1) throw new InitPruneException($"the inputs must be a batch [N, …] with N ≥ 1, got [{string.Join(",", inputs.shape)}]");
        var list = new List<JacobianEstimate>();
        for (long i = 0; i < inputs.shape[0]; i++)
        {
            using var x = inputs[i];
            list.Add(Estimate(model, x, options));
        }
        double mean = list.Average(e => e.Norm);
        double std = list.Count > 1 ? Math.Sqrt(list.Sum(e => (e.Norm - mean) * (e.Norm - mean)) / (list.Count - 1)) : 0;
        return new JacobianSummary(mean, std, list);
    }

    /// <summary>
    /// J itself as a float64 matrix [outputs, inputs] (flattened Y_L × Y_0, or output × x), one vector–Jacobian
    /// product per row: the test oracle for small widths.
    /// </summary>
    public static Tensor Explicit(nn.Module<Tensor, Tensor> model, Tensor input, JacobianSpan span)
    {
        using var mode = new EvaluationMode(model);
        using var grad = enable_grad();
        using var scope = NewDisposeScope();
        var (z, y) = Map(model, input, span);
        long m = y.numel(), n = z.numel();
        if (!y.requires_grad) return zeros(m, n, dtype: float64).MoveToOuterDisposeScope();
        var rows = new Tensor[m];
        for (long i = 0; i < m; i++)
        {
            var e = zeros(m, dtype: y.dtype, device: y.device);
            e[i] = 1;
            var g = autograd.grad([y], [z], [e.view(y.shape)], retain_graph: true, allow_unused: true)[0];
            rows[i] = g is null || g.IsInvalid ? zeros(n, dtype: float64) : g.flatten().to(float64, CPU);
        }
        return stack(rows).MoveToOuterDisposeScope();
    }

    /// <summary>The leaf z where J starts (Y_0 or x, requiring grad) and y = the span's end computed from it.</summary>
    static (Tensor Z, Tensor Y) Map(nn.Module<Tensor, Tensor> model, Tensor input, JacobianSpan span)
    {
        var x = Sample(model, input);
        if (span == JacobianSpan.Full)
        {
            var zx = x.detach().clone().requires_grad_(true);
            return (zx, model.forward(zx));
        }
        var parts = JacobianSpans.Require(model);
        Tensor y0;
        using (no_grad()) y0 = parts.Stem(x);
        var z = y0.detach().requires_grad_(true);
        return (z, parts.Body(z));
    }

    /// <summary>One input as a batch of one, in the model's dtype and device (4-D for models that start with a convolution).</summary>
    static Tensor Sample(nn.Module<Tensor, Tensor> model, Tensor input)
    {
        var p = model.parameters().First();
        bool conv = Network.Layers(model).FirstOrDefault().Layer is MaskedConv2d;
        var x = input.to(p.dtype, p.device);
        if (!conv) return x.reshape(1, -1);
        if (x.dim() == 3) return x.unsqueeze(0);
        if (x.dim() == 4 && x.shape[0] == 1) return x.alias();
        throw new InitPruneException($"one image input must be [C,H,W] or [1,C,H,W], got [{string.Join(",", input.shape)}]");
    }

    static double Norm(Tensor t)
    {
        using var wide = t.to(float64);
        using var n = wide.norm();
        return n.ToDouble();
    }

    static Tensor StartVector(Tensor like, long seed)
    {
        using var g = new Generator((ulong)Seeds.For(seed, "jacobian start"));
        using var r = randn(like.shape, dtype: float64, generator: g);
        using var unit = r.div(r.norm());
        return unit.to(like.dtype, like.device);
    }

    /// <summary>Puts every module in evaluation mode and restores each one's own mode on dispose.</summary>
    sealed class EvaluationMode : IDisposable
    {
        readonly List<(nn.Module Module, bool Training)> saved;

        public EvaluationMode(nn.Module<Tensor, Tensor> model)
        {
            saved = [.. Network.Modules(model).Prepend(("", model)).Select(m => (m.Item2, m.Item2.training))];
            model.eval();
        }

        // Pre-order, so that a parent's train(…) (which recurses) is overridden by each child's own flag after it.
        public void Dispose()
        {
            foreach (var (m, training) in saved) m.train(training);
        }
    }
}
