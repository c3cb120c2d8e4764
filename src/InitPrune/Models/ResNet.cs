using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>
/// CIFAR ResNet of depth 6n+2 (He et al. 2016 §4.2; open_lth / Synaptic-Flow layout): conv 3×3 → BN → act, three
/// stages of n <see cref="BasicBlock"/>s with 16, 32, 64 filters (× width multiplier; stages 2 and 3 start with
/// stride 2), global average pooling, linear <c>fc</c>. Names: <c>conv.weight</c>, <c>bn.weight</c>,
/// <c>blocks.{i}.conv1.weight</c>, …, <c>fc.weight</c>. Stable: every branch scaled by 1/√(3n) (seed 001 Eq. (9)).
/// </summary>
public sealed class ResNet : nn.Module<Tensor, Tensor>, Pruning.IStableResNet
{
    readonly MaskedConv2d conv;
    readonly MaskedBatchNorm2d bn;
    readonly nn.Module<Tensor, Tensor> act;
    readonly Sequential blocks;
    readonly MaskedLinear fc;

    /// <summary>True for a Stable ResNet (branches scaled by 1/√B), which sbp-sr and grasp-sr require.</summary>
    public bool Stable { get; }

    public ResNet(long inChannels, int blocksPerStage, long outputs, long baseWidth = 16, bool stable = false,
        ShortcutKind shortcutKind = ShortcutKind.B, string activation = "relu", string padding = "zeros", bool bias = true)
        : base("ResNet")
    {
        if (blocksPerStage < 1 || baseWidth < 1)
            throw new Engine.InitPruneException($"impossible ResNet: {blocksPerStage} blocks per stage, base width {baseWidth}; both must be ≥ 1");
        int count = 3 * blocksPerStage;
        // Seed 001 Eq. (9): y^l = y^{l-1} + F(W^l, y^{l-1}) / √L, L = number of blocks.
        double scale = stable ? 1.0 / Math.Sqrt(count) : 1.0;
        Stable = stable;
        conv = new MaskedConv2d(inChannels, baseWidth, 3, 1, 1, padding, hasBias: false);
        bn = new MaskedBatchNorm2d(baseWidth);
        act = Activations.Create(activation);
        var list = new List<(string, nn.Module<Tensor, Tensor>)>();
        long current = baseWidth;
        for (int stage = 0; stage < 3; stage++)
        {
            long filters = baseWidth << stage;
            for (int i = 0; i < blocksPerStage; i++)
            {
                list.Add(($"{list.Count}", new BasicBlock(current, filters, stage > 0 && i == 0, scale, shortcutKind, activation, padding)));
                current = filters;
            }
        }
        blocks = nn.Sequential(list);
        fc = new MaskedLinear(current, outputs, bias);
        register_module("conv", conv);
        register_module("bn", bn);
        register_module("act", act);
        register_module("blocks", blocks);
        register_module("fc", fc);
        BlockCount = count;
    }

    /// <summary>Number of residual blocks B = 3n (ResNet32: 15).</summary>
    public int BlockCount { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = blocks.forward(act.forward(bn.forward(conv.forward(input))));
        return fc.forward(h.mean([2, 3])).MoveToOuterDisposeScope();
    }
}
