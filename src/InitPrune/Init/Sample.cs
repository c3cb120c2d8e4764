using static TorchSharp.torch;

namespace InitPrune.Init;

/// <summary>Zero-mean draws with a given standard deviation, in the layer's dtype on the CPU.</summary>
public static class Sample
{
    public static Tensor Normal(long[] shape, double std, ScalarType dtype, Generator gen) =>
        randn(shape, dtype: dtype, generator: gen).mul_(std);

    /// <summary>U[−a, a].</summary>
    public static Tensor Uniform(long[] shape, double bound, ScalarType dtype, Generator gen) =>
        rand(shape, dtype: dtype, generator: gen).mul_(2 * bound).sub_(bound);
}
