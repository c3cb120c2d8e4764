using InitPrune.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>
/// A stride-1 convolution with wrap-around padding on p×p maps as a matrix (seed 003 Eqs. 7–9) and its spectral norm by the
/// Fourier formula of Lemma 7 (Sedghi et al. 2018, Thm 6). Kernels are [d', d, q, q]; images [d, p, p], flattened row-major.
/// </summary>
public static class CircularConvolution
{
    /// <summary>
    /// Seed 003 Eq. (7)–(9): W = [B_{s,t}], B_{s,t} doubly block circulant with W[(s,a,b),(t,c,e)] = K_{s,t,(c−a) mod p,(e−b) mod p},
    /// K the kernel zero-padded to p×p, so that W·vec(X) = vec(Y) with Y_{s,a,b} = Σ_{t,i,j} X_{t,(a+i) mod p,(b+j) mod p} K_{s,t,i,j}.
    /// </summary>
    public static Tensor Matrix(Tensor kernel, int p)
    {
        var (dOut, dIn, _) = Check(kernel, p);
        using var k = Padded(kernel, p);
        using var r = arange(p, dtype: ScalarType.Int64);
        using var shift = r.unsqueeze(0).sub(r.unsqueeze(1)).remainder(p); // shift[a, c] = (c − a) mod p
        using var rows = shift.view(p, 1, p, 1);
        using var cols = shift.view(1, p, 1, p);
        using var blocks = k.index(TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Tensor(rows), TensorIndex.Tensor(cols)); // [d', d, a, b, c, e]
        return blocks.permute(0, 2, 3, 1, 4, 5).reshape(dOut * p * p, dIn * p * p);
    }

    /// <summary>The same linear map computed by libtorch: circular padding by q − 1 on the bottom/right, then conv2d (a cross-correlation).</summary>
    public static Tensor Apply(Tensor kernel, Tensor image)
    {
        int p = (int)image.shape[^1];
        var (_, dIn, q) = Check(kernel, p);
        if (image.dim() != 3 || image.shape[0] != dIn || image.shape[1] != p)
            throw new InitPruneException($"image of shape [{string.Join(", ", image.shape)}] does not match a kernel with {dIn} input channels on {p}×{p} maps");
        using var x = image.unsqueeze(0);
        using var padded = nn.functional.pad(x, [0, q - 1, 0, q - 1], PaddingModes.Circular);
        using var y = nn.functional.conv2d(padded, kernel);
        return y.squeeze(0);
    }

    /// <summary>Seed 003 Lemma 7: ‖W‖₂ = max_{u,v} ‖P^{(u,v)}‖₂ with P^{(u,v)}_{s,t} the (u,v) 2-D DFT coefficient of K_{s,t}.</summary>
    public static double SpectralNormFft(Tensor kernel, int p)
    {
        Check(kernel, p);
        using var k = Padded(kernel, p);
        using var f = fft.fft2(k); // the conjugate of S^T K S: the same singular values
        using var perFrequency = f.permute(2, 3, 0, 1); // [u, v, d', d]
        return SpectralNorms.Of(perFrequency).Max();
    }

    /// <summary>‖W‖₂ of the dense matrix of <see cref="Matrix"/>, by its singular values.</summary>
    public static double SpectralNormDense(Tensor kernel, int p)
    {
        using var w = Matrix(kernel, p);
        using var s = linalg.svdvals(w);
        return s.max().to_type(ScalarType.Float64).item<double>();
    }

    static Tensor Padded(Tensor kernel, int p)
    {
        int q = (int)kernel.shape[^1];
        return nn.functional.pad(kernel, [0, p - q, 0, p - q]);
    }

    static (long DOut, long DIn, int Q) Check(Tensor kernel, int p)
    {
        if (kernel.dim() != 4 || kernel.shape[2] != kernel.shape[3])
            throw new InitPruneException($"kernel of shape [{string.Join(", ", kernel.shape)}] is not [d_out, d_in, q, q]");
        int q = (int)kernel.shape[3];
        if (q > p) throw new InitPruneException($"kernel size {q} exceeds the image size {p}: need q ≤ p");
        return (kernel.shape[0], kernel.shape[1], q);
    }
}
