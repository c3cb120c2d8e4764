using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>
/// PyTorch's nn.BatchNorm2d (ε = 1e-5, momentum 0.1, affine, running statistics: TorchSharp's own forward and
/// parameter names) whose scale γ and shift β can carry masks, as Synaptic-Flow's <c>layers.BatchNorm2d</c> when
/// <c>--prune-batchnorm</c> is on. Unmasked it is nn.BatchNorm2d exactly; masks are installed only when a spec prunes
/// BatchNorm (<see cref="Network.Prunable"/> with includeBatchNorm).
/// </summary>
public sealed class MaskedBatchNorm2d(long features) : BatchNorm(features, 1e-5, 0.1, true, true, null, null, "BatchNorm2d"), IMaskedModule
{
    Tensor IMaskedModule.Weight => weight!;
    Tensor? IMaskedModule.Bias => bias;

    public Tensor? WeightMask { get; private set; }
    public Tensor? BiasMask { get; private set; }

    public void SetMask(Tensor? mask, bool forBias = false)
    {
        var target = (forBias ? bias : weight) ?? throw new InvalidOperationException($"{GetName()} is not affine");
        var old = forBias ? BiasMask : WeightMask;
        var m = Masking.Install(target, mask);
        if (forBias) BiasMask = m; else WeightMask = m;
        old?.Dispose();
    }

    public void MaskGradients()
    {
        Masking.Gradient(weight, WeightMask);
        Masking.Gradient(bias, BiasMask);
    }

    public void EnforceMask()
    {
        Masking.Enforce(weight, WeightMask);
        Masking.Enforce(bias, BiasMask);
    }

    protected override void ValidateInputDimensions(Tensor input)
    {
        if (input.dim() != 4) throw new ArgumentException($"expected 4D input (got {input.dim()}D input)");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            WeightMask?.Dispose();
            BiasMask?.Dispose();
        }
        base.Dispose(disposing);
    }
}
