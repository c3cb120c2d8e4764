using InitPrune.Engine;
using InitPrune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>
/// Seed 004 Lemma 2: multiplying the weights of layer l by σ_l and its biases by Π_{m≤l} σ_m scales a ReLU
/// network's output by Π_l σ_l. Section 5 uses it to spread an output scale λ over the layers.
/// </summary>
public static class ParameterRescaling
{
    /// <summary>Applies h(θ, σ) in place to the masked layers of <paramref name="model"/>, in forward order.</summary>
    public static void Apply(nn.Module model, IReadOnlyList<double> sigma)
    {
        var layers = Network.Layers(model).Select(l => l.Layer).ToList();
        if (sigma.Count != layers.Count)
            throw new InitPruneException($"{sigma.Count} scale factors were given for a network of {layers.Count} layers; give one sigma per layer");
        if (sigma.Any(s => !(s > 0) || !double.IsFinite(s)))
            throw new InitPruneException($"scale factors [{string.Join(", ", sigma)}] must be finite and > 0 (the ReLU is only positively homogeneous)");
        using var _ = no_grad();
        double cumulative = 1;
        for (int l = 0; l < layers.Count; l++)
        {
            // Seed 004 Lemma 2: w ↦ σ_l w, b ↦ (Π_{m≤l} σ_m) b.
            cumulative *= sigma[l];
            layers[l].weight.mul_(sigma[l]);
            layers[l].bias?.mul_(cumulative);
        }
    }

    /// <summary>The product Π_l σ_l by which <see cref="Apply"/> scales the output.</summary>
    public static double OutputFactor(IReadOnlyList<double> sigma) => sigma.Aggregate(1.0, (a, s) => a * s);

    /// <summary>Seed 004 §5: σ_l = λ^{1/L} for every layer, so the biases get λ^{l/L} and the output λ.</summary>
    public static double[] ForOutputScale(double lambda, int depth)
    {
        if (!(lambda > 0) || !double.IsFinite(lambda))
            throw new InitPruneException($"output scale lambda {lambda} must be finite and > 0");
        if (depth < 1)
            throw new InitPruneException($"depth {depth} must be at least 1");
        return [.. Enumerable.Repeat(Math.Pow(lambda, 1.0 / depth), depth)];
    }
}
