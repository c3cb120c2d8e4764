using static TorchSharp.torch;

namespace InitPrune.Init;

/// <summary>
/// Orthogonal weights σw·Q (Saxe et al. 2014; for pruning, Lee et al. 2020, seed 001 §1): Q has orthonormal rows
/// (out ≤ in) or columns, so a square layer's entries have variance σw²/fan_in like <c>normal</c>. Convolutions are
/// delta-orthogonal (Xiao et al. 2018): σw·Q at the kernel centre (index ⌊k/2⌋ per spatial dim), exactly zero elsewhere.
/// Biases N(0, σb²).
/// </summary>
public sealed class OrthogonalInit(double sigmaW, double sigmaB) : ILayerInit
{
    public (Tensor Weight, Tensor Bias) Draw(InitLayer layer, Generator gen)
    {
        using var q = Matrix(layer.Outputs, layer.Inputs, layer.DType, gen);
        using var scaled = q.mul(sigmaW);
        return (AtKernelCentre(scaled, layer), Sample.Normal([layer.Outputs], sigmaB, layer.DType, gen));
    }

    /// <summary>A Haar-random [rows, cols] matrix with orthonormal rows or columns: Q of the QR of a Gaussian, signs fixed by diag(R).</summary>
    public static Tensor Matrix(long rows, long cols, ScalarType dtype, Generator gen)
    {
        bool wide = rows < cols;
        using var g = randn(wide ? [cols, rows] : [rows, cols], dtype: dtype, generator: gen).to(float64);
        var (q, r) = linalg.qr(g);
        using (q) using (r)
        {
            using var signs = r.diagonal().sign();
            using var fixedQ = q.mul(signs);
            return (wide ? fixedQ.t() : fixedQ).to(dtype).contiguous();
        }
    }

    /// <summary>The [out, in] matrix itself for a linear layer; for a convolution a kernel that holds it at the centre and zeros elsewhere.</summary>
    public static Tensor AtKernelCentre(Tensor matrix, InitLayer layer)
    {
        if (layer.Shape.Length == 2) return matrix.clone();
        var w = zeros(layer.Shape, dtype: layer.DType);
        var index = new TensorIndex[layer.Shape.Length];
        index[0] = TensorIndex.Colon;
        index[1] = TensorIndex.Colon;
        for (int d = 2; d < index.Length; d++) index[d] = TensorIndex.Single(layer.Shape[d] / 2);
        w.index_put_(matrix, index);
        return w;
    }
}
