using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>
/// Convolutional features in a Sequential named <c>layers</c>, global average pooling, and one linear classifier
/// <c>fc</c>: the shape shared by the vanilla CNN and the CIFAR VGGs.
/// </summary>
public abstract class PooledConvNet : nn.Module<Tensor, Tensor>
{
    readonly Sequential layers;
    readonly MaskedLinear fc;

    protected PooledConvNet(string name, List<(string, nn.Module<Tensor, Tensor>)> features, long featureChannels, long outputs, bool bias)
        : base(name)
    {
        layers = nn.Sequential(features);
        fc = new MaskedLinear(featureChannels, outputs, bias);
        register_module("layers", layers);
        register_module("fc", fc);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var pooled = layers.forward(input).mean([2, 3]);
        return fc.forward(pooled).MoveToOuterDisposeScope();
    }
}
