using InitPrune.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Tests.Init;

/// <summary>Small models for the initialization tests: masked layers in a Sequential, in forward order.</summary>
internal static class InitNets
{
    public static Sequential Of(params nn.Module<Tensor, Tensor>[] modules) =>
        nn.Sequential(modules.Select((m, i) => ($"{i}", m)).ToArray());

    public static MaskedConv2d Conv(long inC, long outC, long k = 3, bool bias = true) =>
        new(inC, outC, k, 1, k / 2, "circular", bias);

    public static Tensor Weight(nn.Module model, int layer) => Network.Layers(model).ElementAt(layer).Layer.weight;

    public static Tensor Bias(nn.Module model, int layer) => Network.Layers(model).ElementAt(layer).Layer.bias!;

    public static double Std(Tensor t) => t.to(float64).std().item<double>();

    /// <summary>Sample standard deviation's standard error for n Gaussian draws, relative: 1/√(2(n − 1)).</summary>
    public static double RelStdError(long n) => 1 / Math.Sqrt(2.0 * (n - 1));
}
