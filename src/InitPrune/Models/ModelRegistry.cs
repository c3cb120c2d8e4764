using InitPrune.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>What to build. <see cref="Widths"/> overrides <see cref="Depth"/> × <see cref="Width"/> when given.</summary>
public sealed record ModelSpec(
    string Name = "mlp",
    int Depth = 2,
    int Width = 100,
    long[]? Widths = null,
    string Activation = "relu",
    bool Bias = true)
{
    /// <summary>Hidden widths after resolving presets (lenet300 = [300, 100]) and depth × width.</summary>
    public long[] HiddenWidths => Widths ?? (Name.ToLowerInvariant() switch
    {
        "lenet300" or "lenet-300-100" => [300, 100],
        _ => Enumerable.Repeat((long)Width, Depth).ToArray(),
    });
}

/// <summary>Models by the names users type.</summary>
public static class ModelRegistry
{
    public static readonly IReadOnlyList<string> Names = ["mlp", "lenet300"];

    public static nn.Module<Tensor, Tensor> Create(ModelSpec spec, long inputSize, long outputs)
    {
        var name = spec.Name.ToLowerInvariant();
        if (name is not ("mlp" or "lenet300" or "lenet-300-100"))
            throw new InitPruneException($"unknown model '{spec.Name}': use one of {string.Join(", ", Names)}");
        if (spec.Widths is null && name == "mlp" && (spec.Depth < 0 || spec.Width <= 0))
            throw new InitPruneException($"impossible MLP: depth {spec.Depth}, width {spec.Width}; depth must be ≥ 0 and width ≥ 1");
        var model = new Mlp(inputSize, spec.HiddenWidths, outputs, spec.Activation, spec.Bias);
        return model.to(Compute.Device);
    }
}
