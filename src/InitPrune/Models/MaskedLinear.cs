using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>y = x Wᵀ + b, PyTorch's nn.Linear, carrying an optional mask (pruned entries of W are kept at 0).</summary>
public sealed class MaskedLinear(long inFeatures, long outFeatures, bool hasBias = true)
    : MaskedLayer("MaskedLinear", empty(outFeatures, inFeatures), hasBias ? zeros(outFeatures) : null)
{
    public long InFeatures { get; } = inFeatures;
    public long OutFeatures { get; } = outFeatures;

    public override Tensor forward(Tensor input)
    {
        var (w, b) = ForwardParameters();
        return Observed(input, nn.functional.linear(input, w, b));
    }
}
