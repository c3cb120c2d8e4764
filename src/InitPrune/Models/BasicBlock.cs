using InitPrune.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>How a residual block maps its input when the shape changes.</summary>
public enum ShortcutKind
{
    /// <summary>Option A (He et al. 2016): stride-2 subsampling and zero channels, no parameters.</summary>
    A,
    /// <summary>Option B, as in the seeds' reference code (GraSP, Synaptic-Flow): 1×1 stride-2 conv + BatchNorm.</summary>
    B,
}

/// <summary>
/// CIFAR ResNet basic block: branch F(x) = bn2(conv2(act(bn1(conv1(x))))), output act(shortcut(x) + scale · F(x)).
/// scale = 1 for the standard ResNet and 1/√B for the Stable ResNet (seed 001 Eq. (9), B = number of blocks).
/// Children <c>conv1</c>, <c>bn1</c>, <c>conv2</c>, <c>bn2</c>, <c>shortcut</c> (option B: <c>shortcut.0</c> conv,
/// <c>shortcut.1</c> BatchNorm), as in open_lth / Synaptic-Flow.
/// </summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    readonly MaskedConv2d conv1;
    readonly MaskedBatchNorm2d bn1;
    readonly MaskedConv2d conv2;
    readonly MaskedBatchNorm2d bn2;
    readonly nn.Module<Tensor, Tensor>? shortcut;
    readonly nn.Module<Tensor, Tensor> act;
    readonly long inChannels;
    readonly long outChannels;
    readonly bool downsample;

    public BasicBlock(long inChannels, long outChannels, bool downsample, double branchScale, ShortcutKind shortcutKind,
        string activation, string padding)
        : base("BasicBlock")
    {
        long stride = downsample ? 2 : 1;
        conv1 = new MaskedConv2d(inChannels, outChannels, 3, stride, 1, padding, hasBias: false);
        bn1 = new MaskedBatchNorm2d(outChannels);
        conv2 = new MaskedConv2d(outChannels, outChannels, 3, 1, 1, padding, hasBias: false);
        bn2 = new MaskedBatchNorm2d(outChannels);
        register_module("conv1", conv1);
        register_module("bn1", bn1);
        register_module("conv2", conv2);
        register_module("bn2", bn2);
        if ((downsample || inChannels != outChannels) && shortcutKind == ShortcutKind.B)
        {
            shortcut = nn.Sequential(
                ("0", new MaskedConv2d(inChannels, outChannels, 1, stride, 0, "zeros", hasBias: false)),
                ("1", new MaskedBatchNorm2d(outChannels)));
            register_module("shortcut", shortcut);
        }
        act = Activations.Create(activation);
        register_module("act", act);
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.downsample = downsample;
        BranchScale = branchScale;
        scale = branchScale.ToScalar();
    }

    readonly Scalar scale; // held for the module's life: a temporary Scalar can be freed mid-call (Engine.Scalars)

    /// <summary>Factor on the residual branch: 1, or 1/√B for the Stable ResNet.</summary>
    public double BranchScale { get; }

    /// <summary>The residual branch F(x), before scaling.</summary>
    public Tensor Branch(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = act.forward(bn1.forward(conv1.forward(input)));
        return bn2.forward(conv2.forward(h)).MoveToOuterDisposeScope();
    }

    /// <summary>The shortcut: identity, option A (subsample, zero channels) or option B (1×1 conv + BN).</summary>
    public Tensor Shortcut(Tensor input)
    {
        if (shortcut is not null) return shortcut.forward(input);
        if (!downsample && inChannels == outChannels) return input.alias();
        using var scope = NewDisposeScope();
        var x = downsample ? input[.., .., TensorIndex.Slice(null, null, 2), TensorIndex.Slice(null, null, 2)] : input;
        long extra = outChannels - inChannels;
        return nn.functional.pad(x, [0, 0, 0, 0, extra / 2, extra - extra / 2]).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var branch = Branch(input);
        if (BranchScale != 1.0) branch = branch.mul(scale);
        return act.forward(Shortcut(input).add(branch, Scalars.One)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) scale.Dispose();
        base.Dispose(disposing);
    }
}
