using static TorchSharp.torch;

namespace InitPrune.Init;

/// <summary>
/// Seed 004 §3.1 (Lemma 2, Theorem 5): weights scaled by σ_{w,l} and biases by σ_{b,l} = Π_{k≤l} σ_{w,k}, i.e.
/// w ~ U[−σ_{w,l}, σ_{w,l}], b ~ U[−σ_{b,l}, σ_{b,l}] (uniform) or w ~ N(0, σ_{w,l}²), b ~ N(0, σ_{b,l}²) (normal).
/// σ_{w,l} = √3·σw/√fan_in (uniform: weight std σw/√fan_in), σw/√fan_in (normal) or √(2/fan_in) (He).
/// </summary>
public sealed class ScaledBiasInit(bool uniform, Func<InitLayer, double> weightScale) : ILayerInit
{
    double biasScale = 1;

    public (Tensor Weight, Tensor Bias) Draw(InitLayer layer, Generator gen)
    {
        double scale = weightScale(layer);
        biasScale *= scale;
        return uniform
            ? (Sample.Uniform(layer.Shape, scale, layer.DType, gen), Sample.Uniform([layer.Outputs], biasScale, layer.DType, gen))
            : (Sample.Normal(layer.Shape, scale, layer.DType, gen), Sample.Normal([layer.Outputs], biasScale, layer.DType, gen));
    }

    public static ScaledBiasInit Uniform(double sigmaW) => new(true, l => Math.Sqrt(3) * sigmaW / Math.Sqrt(l.FanIn));

    public static ScaledBiasInit Normal(double sigmaW) => new(false, l => sigmaW / Math.Sqrt(l.FanIn));

    public static ScaledBiasInit He() => new(false, l => Math.Sqrt(2.0 / l.FanIn));
}
