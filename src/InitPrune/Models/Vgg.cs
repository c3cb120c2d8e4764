using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>
/// VGG for 32×32 inputs as in open_lth / Synaptic-Flow (the seeds' reference code): the plan's 3×3 conv layers
/// (<see cref="ConvModule"/>) with 2×2 max-pooling between blocks and none after the last, global average
/// pooling, and one linear classifier <c>fc</c> (512 → outputs). Names: <c>layers.{i}.conv.weight</c>,
/// <c>layers.{i}.bn.weight</c>, <c>fc.weight</c>; pooling layers take indices too, as in nn.Sequential.
/// </summary>
/// <param name="blocks">Output channels of every conv layer, block by block; blocks are separated by max-pooling.</param>
public sealed class Vgg(long inChannels, IReadOnlyList<long[]> blocks, long outputs, bool batchNorm = false, string activation = "relu",
    string padding = "zeros", bool bias = true)
    : PooledConvNet("Vgg", Features(inChannels, blocks, batchNorm, activation, padding, bias), blocks[^1][^1], outputs, bias)
{
    /// <summary>Channels per block from configurations A, B, D, E of Simonyan and Zisserman.</summary>
    public static long[][] Plan(int depth) => depth switch
    {
        11 => [[64], [128], [256, 256], [512, 512], [512, 512]],
        13 => [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
        16 => [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
        19 => [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]],
        _ => throw new Engine.InitPruneException($"unknown model 'vgg{depth}': use vgg11, vgg13, vgg16 or vgg19"),
    };

    static List<(string, nn.Module<Tensor, Tensor>)> Features(long inChannels, IReadOnlyList<long[]> blocks, bool batchNorm, string activation,
        string padding, bool bias)
    {
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        long prev = inChannels;
        for (int b = 0; b < blocks.Count; b++)
        {
            if (b > 0) modules.Add(($"{modules.Count}", nn.MaxPool2d(2, 2)));
            foreach (var c in blocks[b])
            {
                modules.Add(($"{modules.Count}", new ConvModule(prev, c, batchNorm, activation, padding, bias)));
                prev = c;
            }
        }
        return modules;
    }
}
