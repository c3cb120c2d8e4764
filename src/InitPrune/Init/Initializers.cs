using InitPrune.Engine;
using InitPrune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Init;

/// <summary>How to initialize: the seeds' N(0, σw²/fan_in), N(0, σb²) or Kaiming (He) normal.</summary>
public sealed record InitSpec(string Name = "normal", double SigmaW = 1.4142135623730951, double SigmaB = 0.0);

/// <summary>Initializations by the names users type. All draws come from one generator seeded by the caller.</summary>
public static class Initializers
{
    public static readonly IReadOnlyList<string> Names = ["normal", "kaiming-normal"];

    /// <summary>Initializes every masked layer in forward order; the same seed gives the same tensors.</summary>
    public static void Apply(nn.Module model, InitSpec spec, long seed)
    {
        if (spec.SigmaW < 0 || spec.SigmaB < 0 || !double.IsFinite(spec.SigmaW) || !double.IsFinite(spec.SigmaB))
            throw new InitPruneException($"impossible initialization: sigma_w {spec.SigmaW}, sigma_b {spec.SigmaB}; both must be finite and ≥ 0");
        var name = spec.Name.ToLowerInvariant();
        if (!Names.Contains(name))
            throw new InitPruneException($"unknown initialization '{spec.Name}': use one of {string.Join(", ", Names)}");
        using var gen = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var (_, layer) in Network.Layers(model))
        {
            double fanIn = layer.FanIn;
            // Seed 001 §2: W ~ N(0, σw²/N_{l-1}), B ~ N(0, σb²). Kaiming: σw = √2, zero bias.
            double wStd = name == "normal" ? spec.SigmaW / Math.Sqrt(fanIn) : Math.Sqrt(2.0 / fanIn);
            double bStd = name == "normal" ? spec.SigmaB : 0.0;
            Fill(layer.weight, wStd, gen);
            if (layer.bias is not null) Fill(layer.bias, bStd, gen);
        }
    }

    static void Fill(Tensor p, double std, Generator gen)
    {
        using var draw = randn(p.shape, dtype: p.dtype, generator: gen);
        p.copy_(draw.mul_(std));
    }
}
