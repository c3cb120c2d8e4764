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
        5 or 15 or 25 or 35 => Seed002Plan(depth),
        _ => throw new Engine.InitPruneException($"unknown model 'vgg{depth}': use vgg11, vgg13, vgg16, vgg19 or seed 002's vgg5, vgg15, vgg25, vgg35"),
    };

    /// <summary>
    /// Seed 002 App. G.6: depth L (the FC layer counted) = L − 1 convolutions in four blocks of 64, 128, 256, 512 channels,
    /// the first block (L + 5)/10 layers deep and the other three sharing the rest: L = 5 → 1, 1, 1, 1; 15 → 2, 4, 4, 4;
    /// 25 → 3, 7, 7, 7; 35 → 4, 10, 10, 10.
    /// </summary>
    static long[][] Seed002Plan(int depth)
    {
        int first = (depth + 5) / 10, rest = (depth - 1 - first) / 3;
        return [[.. Enumerable.Repeat(64L, first)], [.. Enumerable.Repeat(128L, rest)], [.. Enumerable.Repeat(256L, rest)], [.. Enumerable.Repeat(512L, rest)]];
    }

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
