using static TorchSharp.torch;

namespace InitPrune.Init;

/// <summary>
/// Seed 002 App. F (Fig. 5): W_k^{ij} = W_{k,ind}^{ij} + η·w^k with W_{k,ind}^{ij}, w^k ~ N(0, σw²/fan_in) and one
/// scalar w^k per layer, so corr(W_k^{ij}, W_k^{ml}) = η²/(1 + η²) and Var(W_k^{ij}) = (1 + η²)·σw²/fan_in
/// (the paper's definition, not renormalized). Biases N(0, σb²).
/// </summary>
public sealed class CorrelatedInit(double sigmaW, double sigmaB, double eta) : ILayerInit
{
    public (Tensor Weight, Tensor Bias) Draw(InitLayer layer, Generator gen)
    {
        double std = sigmaW / Math.Sqrt(layer.FanIn);
        var w = Sample.Normal(layer.Shape, std, layer.DType, gen);
        using var shared = Sample.Normal([1], std, layer.DType, gen);
        w.add_(shared.mul_(eta));
        return (w, Sample.Normal([layer.Outputs], sigmaB, layer.DType, gen));
    }

    /// <summary>corr(W^{ij}, W^{ml}) for (i, j) ≠ (m, l) within a layer.</summary>
    public static double Correlation(double eta) => eta * eta / (1 + eta * eta);
}
