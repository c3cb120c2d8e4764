using InitPrune.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Training;

/// <summary>
/// torch.optim.SGD's update (dampening 0): d = ∇θ + λθ; b ← μb + d (b = d at the first step); d ← d + μb with
/// Nesterov, else b; θ ← θ − η·d. The same arithmetic as TorchSharp's SGD, but every Scalar it passes to native code
/// is held until that code returns (<see cref="Scalars"/>): TorchSharp's own step let the collector free them mid-call.
/// </summary>
public sealed class Sgd(IReadOnlyList<Parameter> parameters, double momentum, double weightDecay, bool nesterov) : IOptimizer
{
    readonly Tensor?[] buffers = new Tensor?[parameters.Count];
    readonly Scalar mu = momentum.ToScalar();
    readonly Scalar lambda = weightDecay.ToScalar();

    /// <summary>The momentum buffers, one per parameter (null before the first step or without momentum); owned by this optimizer.</summary>
    public IReadOnlyList<Tensor?> Momentum => buffers;

    public IReadOnlyList<Tensor?> State => buffers;

    public void Restore(IReadOnlyList<Tensor?> state) => RestoreMomentum(state);

    /// <summary>Replaces the momentum buffers by copies of <paramref name="momentum"/> (a resumed run).</summary>
    public void RestoreMomentum(IReadOnlyList<Tensor?> momentum)
    {
        if (momentum.Count != buffers.Length)
            throw new InitPruneException($"the checkpoint holds {momentum.Count} momentum buffers but the model has {buffers.Length} parameters: it was written for another model");
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i]?.Dispose();
            buffers[i] = momentum[i]?.detach().clone().DetachFromDisposeScope();
        }
    }

    /// <summary>One step with learning rate <paramref name="lr"/> on the parameters' current gradients.</summary>
    public void Step(double lr)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var step = (-lr).ToScalar();
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.grad is not { } grad) continue;
            var d = weightDecay != 0 ? grad.add(p, lambda) : grad;
            if (momentum != 0)
            {
                if (buffers[i] is { } b) b.mul_(mu).add_(d, Scalars.One);
                else buffers[i] = d.detach().clone().DetachFromDisposeScope();
                d = nesterov ? d.add(buffers[i]!, mu) : buffers[i]!;
            }
            p.add_(d, step);
        }
    }

    public void Dispose()
    {
        foreach (var b in buffers) b?.Dispose();
        mu.Dispose();
        lambda.Dispose();
    }
}
