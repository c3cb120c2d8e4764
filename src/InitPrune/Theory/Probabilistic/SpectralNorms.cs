using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>Operator 2-norms of a batch of matrices (the largest singular value), through libtorch.</summary>
public static class SpectralNorms
{
    /// <summary>‖M‖₂ for every matrix of a [..., m, n] tensor, as doubles in batch order.</summary>
    public static double[] Of(Tensor matrices)
    {
        using var norms = linalg.matrix_norm(matrices, 2.0);
        using var flat = norms.to_type(ScalarType.Float64).cpu().flatten();
        return flat.data<double>().ToArray();
    }

    /// <summary>How many [n1, n2] matrices to draw at once so that a batch holds about 4M entries.</summary>
    internal static int Chunk(long n1, long n2, int trials) => (int)Math.Clamp(4_000_000 / (n1 * n2), 1, trials);
}
