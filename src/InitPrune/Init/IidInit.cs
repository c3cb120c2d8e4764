using static TorchSharp.torch;

namespace InitPrune.Init;

/// <summary>I.i.d. weights with a per-layer standard deviation (normal or uniform) and biases N(0, σb²).</summary>
public sealed class IidInit(bool uniform, Func<InitLayer, double> weightStd, double sigmaB) : ILayerInit
{
    public (Tensor Weight, Tensor Bias) Draw(InitLayer layer, Generator gen)
    {
        double std = weightStd(layer);
        // U[−√3·std, √3·std] has standard deviation std.
        var w = uniform ? Sample.Uniform(layer.Shape, Math.Sqrt(3) * std, layer.DType, gen) : Sample.Normal(layer.Shape, std, layer.DType, gen);
        return (w, Sample.Normal([layer.Outputs], sigmaB, layer.DType, gen));
    }

    // Seed 001 §2: W ~ N(0, σw²/N_{l−1}), B ~ N(0, σb²); with σw on the Edge of Chaos for `eoc`.
    public static IidInit Normal(double sigmaW, double sigmaB) => new(false, l => sigmaW / Math.Sqrt(l.FanIn), sigmaB);

    // He et al. 2015 (seed 004 §3.2): Var(w) = 2/fan_in.
    public static IidInit Kaiming(bool uniform, double sigmaB) => new(uniform, l => Math.Sqrt(2.0 / l.FanIn), sigmaB);

    // Glorot & Bengio 2010 (seed 004 §3): Var(w) = 2/(fan_in + fan_out).
    public static IidInit Xavier(bool uniform, double sigmaB) => new(uniform, l => Math.Sqrt(2.0 / (l.FanIn + l.FanOut)), sigmaB);
}
