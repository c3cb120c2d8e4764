using InitPrune.Init;
using InitPrune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.Jacobian;

/// <summary>Tiny float64 zoo models for the Jacobian tests, optionally with a random mask and rescaled kept weights.</summary>
internal static class JacobianNets
{
    public static readonly string[] Names = ["mlp", "vcnn", "vgg11", "vgg11-bn", "resnet8", "conv2"];

    public static long[] Sample(string name) => name switch
    {
        "mlp" => [6],
        "vcnn" => [2, 5, 5],
        "vgg11" or "vgg11-bn" => [3, 16, 16],
        _ => [2, 8, 8],
    };

    public static nn.Module<Tensor, Tensor> Build(string name, bool pruned, long seed = 0)
    {
        var spec = name switch
        {
            "mlp" => new ModelSpec("mlp", Widths: [9, 11, 8, 10]),
            "vcnn" => new ModelSpec("vcnn", Widths: [3, 4, 3]),
            "vgg11" or "vgg11-bn" => new ModelSpec(name, WidthMultiplier: 1.0 / 16),
            "resnet8" => new ModelSpec(name, WidthMultiplier: 0.25),
            _ => new ModelSpec(name, WidthMultiplier: 1.0 / 16),
        };
        var model = ModelRegistry.Create(spec, Sample(name), 3);
        Initializers.Apply(model, new InitSpec("normal", Math.Sqrt(2), 0.1), seed);
        model.to(float64);
        using var _ = no_grad();
        using var g = new Generator((ulong)seed + 7);
        foreach (var (bufferName, b) in model.named_buffers())
        {
            // Running statistics away from (0, 1), so that evaluation-mode BatchNorm is a real affine map.
            if (bufferName.EndsWith("running_mean", StringComparison.Ordinal)) b.copy_(randn(b.shape, dtype: float64, generator: g).mul_(0.3));
            if (bufferName.EndsWith("running_var", StringComparison.Ordinal)) b.copy_(rand(b.shape, dtype: float64, generator: g).add_(0.5));
        }
        if (!pruned) return model;
        foreach (var t in Network.Prunable(model))
        {
            using var keep = rand(t.Value.shape, dtype: float64, generator: g).gt(0.4);
            t.SetMask(keep);
            t.Value.mul_(1 / Math.Sqrt(0.6)); // rescaled as (1 − s)^{-1/2} (seed 002 Theorem 5)
        }
        return model;
    }

    public static Tensor Input(string name, long seed = 1)
    {
        using var g = new Generator((ulong)seed);
        return randn(Sample(name), dtype: float64, generator: g);
    }
}
