using InitPrune.Data;
using InitPrune.Init;
using InitPrune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests;

/// <summary>Small networks and data shared by the tests.</summary>
internal static class TestNets
{
    public static nn.Module<Tensor, Tensor> Mlp(long input, long[] widths, long outputs, long seed = 0, string activation = "relu", double sigmaB = 0.1)
    {
        var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: widths, Activation: activation), input, outputs);
        Initializers.Apply(model, new InitSpec("normal", Math.Sqrt(2), sigmaB), seed);
        return model;
    }

    /// <summary>A small classification task with real structure: the synthetic ellipse data.</summary>
    public static DatasetSplit Ellipse(int seed = 0, int n = 2000) => Synthetic.Ellipse(seed, n);

    /// <summary>Same shape and identical values.</summary>
    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    public static float[] Values(Tensor t) => t.detach().cpu().to(ScalarType.Float32).flatten().data<float>().ToArray();
}
