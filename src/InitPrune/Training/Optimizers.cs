using InitPrune.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Training;

/// <summary>
/// An optimizer's update at a given learning rate, with its state as a flat list of tensors (what a checkpoint
/// saves to resume bit for bit). Every implementation holds the Scalars it passes to native code until that code
/// returns (see <see cref="Sgd"/>).
/// </summary>
public interface IOptimizer : IDisposable
{
    /// <summary>One step with learning rate <paramref name="lr"/> on the parameters' current gradients.</summary>
    void Step(double lr);

    /// <summary>The state tensors (null where a parameter has none yet); owned by the optimizer.</summary>
    IReadOnlyList<Tensor?> State { get; }

    /// <summary>Replaces the state by copies of <paramref name="state"/> (a resumed run).</summary>
    void Restore(IReadOnlyList<Tensor?> state);
}

/// <summary>The optimizers <see cref="TrainConfig.Optimizer"/> names.</summary>
public static class Optimizers
{
    public static readonly IReadOnlyList<string> Names = ["sgd", "adam", "adamw", "rmsprop"];

    public static IOptimizer Create(TrainConfig c, IReadOnlyList<Parameter> parameters) => c.Optimizer switch
    {
        "sgd" => new Sgd(parameters, c.Momentum, c.WeightDecay, c.Nesterov),
        "adam" => new Adam(parameters, c.Beta1, c.Beta2, c.Eps, c.WeightDecay, decoupled: false),
        "adamw" => new Adam(parameters, c.Beta1, c.Beta2, c.Eps, c.WeightDecay, decoupled: true),
        "rmsprop" => new RmsProp(parameters, c.RmspropAlpha, c.Eps, c.WeightDecay),
        _ => throw new InitPruneException($"unknown optimizer '{c.Optimizer}': use one of {string.Join(", ", Names)}"),
    };

    internal static Tensor?[] Copies(IReadOnlyList<Tensor?> state, int expected, string what)
    {
        if (state.Count != expected)
            throw new InitPruneException($"the checkpoint holds {state.Count} {what} tensors but this optimizer needs {expected}: it was written for another model or optimizer");
        return [.. state.Select(t => t?.detach().clone().DetachFromDisposeScope())];
    }
}

/// <summary>
/// torch.optim.Adam (<c>decoupled</c> false: g ← ∇θ + λθ) and torch.optim.AdamW (true: θ ← θ(1 − ηλ)), as
/// PyTorch 1.13's single-tensor code: m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; θ ← θ − η/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε).
/// Pruned weights stay zero: their gradient, m and v are zero, so their update is 0/ε.
/// State: m per parameter, then v per parameter, then one int64 tensor of per-parameter step counts.
/// </summary>
public sealed class Adam : IOptimizer
{
    readonly IReadOnlyList<Parameter> parameters;
    readonly double beta1, beta2, eps, weightDecay;
    readonly bool decoupled;
    readonly Tensor?[] m, v;
    readonly long[] steps;
    readonly Scalar b1, b2, oneMinusB1, oneMinusB2, epsilon, lambda;

    public Adam(IReadOnlyList<Parameter> parameters, double beta1, double beta2, double eps, double weightDecay, bool decoupled)
    {
        (this.parameters, this.beta1, this.beta2, this.eps, this.weightDecay, this.decoupled) = (parameters, beta1, beta2, eps, weightDecay, decoupled);
        m = new Tensor?[parameters.Count];
        v = new Tensor?[parameters.Count];
        steps = new long[parameters.Count];
        (b1, b2, oneMinusB1, oneMinusB2, epsilon, lambda) = (beta1.ToScalar(), beta2.ToScalar(), (1 - beta1).ToScalar(), (1 - beta2).ToScalar(), eps.ToScalar(), weightDecay.ToScalar());
    }

    public IReadOnlyList<Tensor?> State
    {
        get
        {
            var state = new List<Tensor?>(m);
            state.AddRange(v);
            stepsTensor?.Dispose();
            stepsTensor = tensor(steps).DetachFromDisposeScope();
            state.Add(stepsTensor);
            return state;
        }
    }

    Tensor? stepsTensor;

    public void Restore(IReadOnlyList<Tensor?> state)
    {
        int n = parameters.Count;
        var copies = Optimizers.Copies(state, 2 * n + 1, "Adam state");
        for (int i = 0; i < n; i++)
        {
            m[i]?.Dispose(); v[i]?.Dispose();
            (m[i], v[i]) = (copies[i], copies[n + i]);
        }
        using var counts = copies[2 * n] ?? throw new InitPruneException("the checkpoint lacks Adam's step counts: it was written for another optimizer");
        counts.data<long>().ToArray().CopyTo(steps, 0);
    }

    public void Step(double lr)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.grad is not { } grad) continue;
            long t = ++steps[i];
            var g = grad;
            if (decoupled)
            {
                using var shrink = (1 - lr * weightDecay).ToScalar();
                p.mul_(shrink);
            }
            else if (weightDecay != 0) g = grad.add(p, lambda);
            m[i] ??= zeros_like(p).DetachFromDisposeScope();
            v[i] ??= zeros_like(p).DetachFromDisposeScope();
            m[i]!.mul_(b1).add_(g, oneMinusB1);
            v[i]!.mul_(b2).addcmul_(g, g, oneMinusB2);
            double stepSize = lr / (1 - Math.Pow(beta1, t));
            using var correction = Math.Sqrt(1 - Math.Pow(beta2, t)).ToScalar();
            using var negStep = (-stepSize).ToScalar();
            var denom = v[i]!.sqrt().div_(correction).add_(epsilon, Scalars.One);
            p.addcdiv_(m[i]!, denom, negStep);
        }
    }

    public void Dispose()
    {
        foreach (var t in m) t?.Dispose();
        foreach (var t in v) t?.Dispose();
        stepsTensor?.Dispose();
        foreach (var s in new[] { b1, b2, oneMinusB1, oneMinusB2, epsilon, lambda }) s.Dispose();
    }
}

/// <summary>
/// torch.optim.RMSprop without momentum and not centered (its defaults, Synaptic-Flow's <c>rms</c>): g ← ∇θ + λθ;
/// s ← αs + (1 − α)g²; θ ← θ − η g / (√s + ε). State: s per parameter.
/// </summary>
public sealed class RmsProp(IReadOnlyList<Parameter> parameters, double alpha, double eps, double weightDecay) : IOptimizer
{
    readonly Tensor?[] square = new Tensor?[parameters.Count];
    readonly Scalar a = alpha.ToScalar(), oneMinusA = (1 - alpha).ToScalar(), epsilon = eps.ToScalar(), lambda = weightDecay.ToScalar();

    public IReadOnlyList<Tensor?> State => square;

    public void Restore(IReadOnlyList<Tensor?> state)
    {
        var copies = Optimizers.Copies(state, parameters.Count, "RMSprop state");
        for (int i = 0; i < square.Length; i++)
        {
            square[i]?.Dispose();
            square[i] = copies[i];
        }
    }

    public void Step(double lr)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var negLr = (-lr).ToScalar();
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.grad is not { } grad) continue;
            var g = weightDecay != 0 ? grad.add(p, lambda) : grad;
            square[i] ??= zeros_like(p).DetachFromDisposeScope();
            square[i]!.mul_(a).addcmul_(g, g, oneMinusA);
            var avg = square[i]!.sqrt().add_(epsilon, Scalars.One);
            p.addcdiv_(g, avg, negLr);
        }
    }

    public void Dispose()
    {
        foreach (var t in square) t?.Dispose();
        foreach (var s in new[] { a, oneMinusA, epsilon, lambda }) s.Dispose();
    }
}
