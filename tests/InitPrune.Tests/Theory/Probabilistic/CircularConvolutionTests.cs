using InitPrune.Engine;
using InitPrune.Theory;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.Probabilistic;

public class CircularConvolutionTests
{
    [Theory]
    [InlineData(1, 1, 3, 5)]
    [InlineData(2, 3, 3, 6)]
    [InlineData(3, 2, 2, 4)]
    public void MatrixTimesImageIsTorchsCircularConvolution(int dOut, int dIn, int q, int p)
    {
        using var gen = new Generator(11);
        using var k = randn([dOut, dIn, q, q], dtype: ScalarType.Float64, generator: gen);
        using var x = randn([dIn, p, p], dtype: ScalarType.Float64, generator: gen);
        using var w = CircularConvolution.Matrix(k, p);
        using var viaMatrix = w.matmul(x.flatten()).view(dOut, p, p);
        using var viaTorch = CircularConvolution.Apply(k, x);
        Assert.True(viaMatrix.allclose(viaTorch, rtol: 0, atol: 1e-12));
    }

    [Fact]
    public void MatrixEntriesFollowEquationNineByHand()
    {
        // Single channel, q = 2, p = 3: W[(a,b),(c,e)] = K[(c−a) mod 3, (e−b) mod 3], K zero outside its 2×2 corner.
        using var k = tensor(new double[] { 1, 2, 3, 4 }).view(1, 1, 2, 2);
        using var w = CircularConvolution.Matrix(k, 3);
        Assert.Equal(1, w[0, 0].item<double>());        // (0,0) → (0,0): K[0,0]
        Assert.Equal(2, w[0, 1].item<double>());        // (0,0) → (0,1): K[0,1]
        Assert.Equal(3, w[0, 3].item<double>());        // (0,0) → (1,0): K[1,0]
        Assert.Equal(4, w[0, 4].item<double>());        // (0,0) → (1,1): K[1,1]
        Assert.Equal(2, w[2, 0].item<double>());        // (0,2) → (0,0): K[0,(0−2) mod 3 = 1]
        Assert.Equal(0, w[0, 2].item<double>());        // K[0,2] is padding
        Assert.Equal(4, w[8, 0].item<double>());        // (2,2) → (0,0): K[1,1]
    }

    [Theory]
    [InlineData(1, 1, 3, 7)]
    [InlineData(2, 2, 3, 5)]
    [InlineData(3, 2, 2, 6)]
    public void FourierNormOfLemma7EqualsTheDenseSvd(int dOut, int dIn, int q, int p)
    {
        using var gen = new Generator(12);
        using var k = randn([dOut, dIn, q, q], dtype: ScalarType.Float64, generator: gen);
        Assert.Equal(CircularConvolution.SpectralNormDense(k, p), CircularConvolution.SpectralNormFft(k, p), 10);
    }

    [Fact]
    public void ClosedFormNorms()
    {
        using var box = ones(1, 1, 3, 3, dtype: ScalarType.Float64);
        Assert.Equal(9, CircularConvolution.SpectralNormFft(box, 5), 12); // the zero frequency: Σ K
        using var delta = zeros(1, 1, 3, 3, dtype: ScalarType.Float64);
        delta[0, 0, 0, 0] = tensor(-2.5);
        Assert.Equal(2.5, CircularConvolution.SpectralNormFft(delta, 4), 12); // W = −2.5 I
        using var gen = new Generator(13);
        using var mix = randn([3, 2, 1, 1], dtype: ScalarType.Float64, generator: gen); // 1×1 conv: W = M ⊗ I
        using var m = mix.view(3, 2);
        Assert.Equal(linalg.svdvals(m).max().item<double>(), CircularConvolution.SpectralNormFft(mix, 4), 12);
    }

    [Fact]
    public void KernelLargerThanImageIsAUserError()
    {
        using var k = zeros(1, 1, 5, 5);
        Assert.Throws<InitPruneException>(() => CircularConvolution.SpectralNormFft(k, 4));
    }
}
