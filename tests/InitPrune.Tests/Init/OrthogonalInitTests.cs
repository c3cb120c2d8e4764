using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Tests.Init;

public class OrthogonalInitTests
{
    /// <summary>Max |MᵀM − I| (tall) or |MMᵀ − I| (wide) in float64.</summary>
    static double OrthogonalityError(Tensor m)
    {
        using var d = m.to(float64);
        using var gram = d.shape[0] >= d.shape[1] ? d.t().matmul(d) : d.matmul(d.t());
        using var identity = eye(gram.shape[0], dtype: float64);
        return gram.sub(identity).abs().max().item<double>();
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(1.5)]
    public void LinearWeightsAreSigmaWTimesOrthogonal(double sigmaW)
    {
        // Layers [64, 40] (tall), [64, 64] (square), [10, 64] (wide).
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: [64, 64]), 40, 10);
        Initializers.Apply(model, new InitSpec("orthogonal", sigmaW, 0), seed: 3);
        for (int l = 0; l < 3; l++)
            Assert.True(OrthogonalityError(InitNets.Weight(model, l).div(sigmaW)) < 1e-5, $"layer {l}");
    }

    [Fact]
    public void ConvolutionsAreDeltaOrthogonal()
    {
        // Xiao et al. 2018: orthogonal at the kernel centre, exactly zero elsewhere.
        using var model = InitNets.Of(InitNets.Conv(3, 16), InitNets.Conv(16, 16), InitNets.Conv(16, 8, 5));
        Initializers.Apply(model, new InitSpec("orthogonal", 1.0, 0), seed: 1);
        for (int l = 0; l < 3; l++)
        {
            var w = InitNets.Weight(model, l);
            long c = w.shape[2] / 2;
            Assert.True(OrthogonalityError(w[.., .., c, c]) < 1e-5, $"layer {l}");
            using var rest = w.clone();
            rest[.., .., c, c] = zeros(w.shape[0], w.shape[1]);
            Assert.Equal(0f, rest.abs().max().item<float>());
        }
    }

    [Fact]
    public void DeltaOrthogonalConvolutionsPreserveTheNormWithCircularPadding()
    {
        // A centre-only kernel is a 1×1 convolution: an isometry per pixel when out ≥ in.
        using var model = InitNets.Of(InitNets.Conv(3, 8), InitNets.Conv(8, 16));
        Initializers.Apply(model, new InitSpec("orthogonal", 1.0, 0), seed: 2);
        using var x = randn(2, 3, 5, 5, generator: new Generator(7));
        using var y = model.forward(x);
        Assert.Equal(x.norm().item<float>(), y.norm().item<float>(), 1e-4);
    }

    [Fact]
    public void LooksLinearHasTheBlockStructureOfSeed004()
    {
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: [16, 32]), 8, 10);
        Initializers.Apply(model, new InitSpec("looks-linear"), seed: 4);
        var (w0, w1, w2) = (InitNets.Weight(model, 0), InitNets.Weight(model, 1), InitNets.Weight(model, 2));
        // First layer: [W₀; −W₀]; hidden: [[W₀, −W₀], [−W₀, W₀]]; last: [W₀, −W₀].
        Assert.True(TestNets.Same(w0[8..], w0[..8].neg()));
        Assert.True(OrthogonalityError(w0[..8]) < 1e-5);
        var a = w1[..16, ..8];
        Assert.True(OrthogonalityError(a) < 1e-5);
        Assert.True(TestNets.Same(w1[..16, 8..], a.neg()) && TestNets.Same(w1[16.., ..8], a.neg()) && TestNets.Same(w1[16.., 8..], a));
        Assert.True(TestNets.Same(w2[.., 16..], w2[.., ..16].neg()));
        Assert.True(OrthogonalityError(w2[.., ..16]) < 1e-5);
        var (b0, b1) = (InitNets.Bias(model, 0), InitNets.Bias(model, 1));
        Assert.True(TestNets.Same(b0[8..], b0[..8].neg()) && TestNets.Same(b1[16..], b1[..16].neg()));
        Assert.True(b0.abs().min().item<float>() > 0);
    }

    [Fact]
    public void LooksLinearWithZeroBiasIsAnExactLinearIsometryOfAReluNet()
    {
        // Seed 004 §3.2: φ(W₀x) − φ(−W₀x) = W₀x, so f(x) = W₀⁽³⁾W₀⁽²⁾W₀⁽¹⁾x; every W₀ here has orthonormal columns.
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: [16, 32]), 8, 16);
        Initializers.Apply(model, new InitSpec("looks-linear", ZeroBias: true), seed: 5);
        using var x = randn(6, 8, generator: new Generator(1));
        using var y = model.forward(x);
        using var linear = x.matmul(InitNets.Weight(model, 0)[..8].t()).matmul(InitNets.Weight(model, 1)[..16, ..8].t())
            .matmul(InitNets.Weight(model, 2)[.., ..16].t());
        Assert.True(y.sub(linear).abs().max().item<float>() < 1e-5);
        using var ratio = y.norm(1).div(x.norm(1));
        Assert.True(ratio.sub(1).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void LooksLinearBiasStdIsTheProductOfHeScales()
    {
        // Seed 004 §3.1–3.2: b₀ ~ N(0, σ_{b,l}²), σ_{b,l} = Π_{k≤l} √(2/fan_in_k); 1000 distinct draws per layer.
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: [2000, 2000]), 100, 2);
        Initializers.Apply(model, new InitSpec("looks-linear"), seed: 6);
        double s1 = Math.Sqrt(2.0 / 100), s2 = s1 * Math.Sqrt(2.0 / 2000);
        double tol = 5 * InitNets.RelStdError(1000);
        Assert.Equal(s1, InitNets.Std(InitNets.Bias(model, 0)[..1000]), tol * s1);
        Assert.Equal(s2, InitNets.Std(InitNets.Bias(model, 1)[..1000]), tol * s2);
    }

    [Fact]
    public void LooksLinearRejectsOddWidths()
    {
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: [15]), 8, 2);
        var e = Assert.Throws<InitPruneException>(() => Initializers.Apply(model, new InitSpec("looks-linear"), 0));
        Assert.Contains("even", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
