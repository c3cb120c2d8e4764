using static TorchSharp.torch;

namespace InitPrune.Init;

/// <summary>A scheme draws one layer's weight and bias ([out]) from the shared generator, weight first.</summary>
public interface ILayerInit
{
    (Tensor Weight, Tensor Bias) Draw(InitLayer layer, Generator gen);
}
