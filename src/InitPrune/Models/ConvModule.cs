using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>
/// One VGG layer as in open_lth / Synaptic-Flow: 3×3 convolution (padding 1), optional BatchNorm, activation.
/// Children <c>conv</c>, <c>bn</c>, <c>act</c>, so parameters are <c>….conv.weight</c>, <c>….bn.weight</c>.
/// </summary>
public sealed class ConvModule : nn.Module<Tensor, Tensor>
{
    readonly MaskedConv2d conv;
    readonly MaskedBatchNorm2d? bn;
    readonly nn.Module<Tensor, Tensor> act;

    public ConvModule(long inChannels, long outChannels, bool batchNorm, string activation, string padding, bool bias)
        : base("ConvModule")
    {
        conv = new MaskedConv2d(inChannels, outChannels, 3, 1, 1, padding, bias);
        register_module("conv", conv);
        if (batchNorm)
        {
            bn = new MaskedBatchNorm2d(outChannels);
            register_module("bn", bn);
        }
        act = Activations.Create(activation);
        register_module("act", act);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var y = conv.forward(input);
        if (bn is not null) y = bn.forward(y);
        return act.forward(y).MoveToOuterDisposeScope();
    }
}
