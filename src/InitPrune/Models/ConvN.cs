using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>
/// Conv-2/4/6/8 of Frankle and Carbin (2019) and the edge-popup paper (Ramanujan et al. 2020; seed 004 §5): blocks of
/// two 3×3 convolutions (64, 128, 256, 512 channels, padding 1) each followed by 2×2 max-pooling, then linear layers
/// 256, 256, outputs on the flattened features (2 × 2 × 512 for Conv-8 on 32×32 inputs; 28×28 inputs floor at each
/// pooling). Names: <c>layers.{i}.weight</c> (pooling and activations take indices too, as in nn.Sequential) and
/// <c>classifier.{0,2,4}.weight</c>. The reference code writes the linear layers as 1×1 convolutions; here they are
/// nn.Linear, so their weights are [out, in] instead of [out, in, 1, 1].
/// </summary>
public sealed class ConvN : nn.Module<Tensor, Tensor>
{
    static readonly long[] BlockChannels = [64, 128, 256, 512];

    readonly Sequential layers;
    readonly Sequential classifier;

    /// <param name="blocks">1 to 4: Conv-2, Conv-4, Conv-6, Conv-8.</param>
    /// <param name="scale">Channel and unit counts after the width multiplier: scale(64), …, scale(256).</param>
    public ConvN(int blocks, long[] sampleShape, long outputs, Func<long, long> scale, string activation = "relu", string padding = "zeros", bool bias = true)
        : base($"Conv{2 * blocks}")
    {
        long size = sampleShape[1], width = sampleShape[2];
        if (blocks is < 1 or > 4 || size >> blocks < 1 || width >> blocks < 1)
            throw new Engine.InitPruneException($"conv{2 * blocks} halves [{sampleShape[1]}×{sampleShape[2]}] images {blocks} times, which leaves no pixel: use fewer blocks or larger images");
        var features = new List<(string, nn.Module<Tensor, Tensor>)>();
        long prev = sampleShape[0];
        for (int b = 0; b < blocks; b++)
        {
            long c = scale(BlockChannels[b]);
            for (int i = 0; i < 2; i++)
            {
                features.Add(($"{features.Count}", new MaskedConv2d(prev, c, 3, 1, 1, padding, bias)));
                features.Add(($"{features.Count}", Activations.Create(activation)));
                prev = c;
            }
            features.Add(($"{features.Count}", nn.MaxPool2d(2, 2)));
            (size, width) = (size / 2, width / 2);
        }
        long hidden = scale(256);
        layers = nn.Sequential(features);
        classifier = nn.Sequential(
            ("0", new MaskedLinear(prev * size * width, hidden, bias)), ("1", Activations.Create(activation)),
            ("2", new MaskedLinear(hidden, hidden, bias)), ("3", Activations.Create(activation)),
            ("4", new MaskedLinear(hidden, outputs, bias)));
        RegisterComponents();
    }

    /// <summary>Parameters of Conv-(2·<paramref name="blocks"/>) without building it (see <see cref="ModelRegistry.ParameterCount"/>).</summary>
    public static double ParameterCount(int blocks, long[] sampleShape, long outputs, Func<long, double> scale, bool bias)
    {
        double total = 0, prev = sampleShape[0];
        long size = sampleShape[1], width = sampleShape[2];
        for (int b = 0; b < blocks; b++)
        {
            double c = scale(BlockChannels[b]);
            total += prev * c * 9 + c * c * 9 + (bias ? 2 * c : 0);
            prev = c;
            (size, width) = (size / 2, width / 2);
        }
        double hidden = scale(256), flat = prev * size * width;
        return total + flat * hidden + hidden * hidden + hidden * outputs + (bias ? 2 * hidden + outputs : 0);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return classifier.forward(layers.forward(input).flatten(1)).MoveToOuterDisposeScope();
    }
}
