using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>
/// Seed 001 §2 / Table 4 vanilla CNN: L convolutions 3×3, stride 1, width-preserving padding (zeros or circular),
/// each followed by the activation, then global average pooling and a linear classifier. Parameters are
/// <c>layers.0.weight</c>, <c>layers.2.weight</c>, … (odd indices are activations) and <c>fc.weight</c>.
/// </summary>
public sealed class VanillaCnn(long inChannels, IReadOnlyList<long> channels, long outputs, string activation = "relu",
    string padding = "zeros", bool bias = true)
    : PooledConvNet("VanillaCnn", Features(inChannels, channels, activation, padding, bias), channels[^1], outputs, bias)
{
    static List<(string, nn.Module<Tensor, Tensor>)> Features(long inChannels, IReadOnlyList<long> channels, string activation, string padding, bool bias)
    {
        if (channels.Count == 0)
            throw new Engine.InitPruneException("a vanilla CNN needs at least one convolution: use --depth ≥ 1");
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        long prev = inChannels;
        foreach (var c in channels)
        {
            modules.Add(($"{modules.Count}", new MaskedConv2d(prev, c, 3, 1, 1, padding, bias)));
            modules.Add(($"{modules.Count}", Activations.Create(activation)));
            prev = c;
        }
        return modules;
    }
}
