using InitPrune.Theory;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.MeanField;

public class PropagationTests
{
    /// <summary>
    /// Monte-Carlo truth: <paramref name="nets"/> independent random networks of width n (batched), two inputs with
    /// variance q0 and correlation c0, y^l = r·y^{l−1} + s (W^l φ(y^{l−1}) + b^l), W ~ N(0, σw²/n), b ~ N(0, σb²).
    /// Returns per layer the mean over networks and the standard error of q̂^l and ĉ^l.
    /// </summary>
    static (double Q, double QSe, double C, double CSe)[] Simulate(string activation, double sigmaW, double sigmaB, double q0, double c0,
        int depth, double residual, double scale, int nets = 16, int n = 1000)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(20261125);
        var g1 = randn([nets, n, 1], dtype: ScalarType.Float64, generator: gen);
        var g2 = randn([nets, n, 1], dtype: ScalarType.Float64, generator: gen);
        var y = cat([g1, c0 * g1 + Math.Sqrt(1 - c0 * c0) * g2], 2) * Math.Sqrt(q0);
        using var phi = InitPrune.Models.Activations.Create(activation);
        var result = new (double, double, double, double)[depth + 1];
        for (var l = 0; l <= depth; l++)
        {
            if (l > 0)
            {
                var w = randn([nets, n, n], dtype: ScalarType.Float64, generator: gen) * (sigmaW / Math.Sqrt(n));
                var b = randn([nets, n, 1], dtype: ScalarType.Float64, generator: gen) * sigmaB;
                y = residual * y + scale * (bmm(w, phi.call(y)) + b);
            }
            var qa = y[.., .., 0].square().mean([1]);
            var qb = y[.., .., 1].square().mean([1]);
            var q = (qa + qb) / 2;
            var c = (y[.., .., 0] * y[.., .., 1]).mean([1]) / (qa * qb).sqrt();
            result[l] = (q.mean().item<double>(), q.std().item<double>() / Math.Sqrt(nets), c.mean().item<double>(), c.std().item<double>() / Math.Sqrt(nets));
        }
        return result;
    }

    static void AssertWithin(double expected, double mean, double se, int n, string what)
    {
        // 5 standard errors plus the O(1/width) finite-width bias of the mean-field limit.
        var tol = 5 * se + 3.0 / n * Math.Abs(expected);
        Assert.True(Math.Abs(mean - expected) <= tol, $"{what}: theory {expected}, simulation {mean} ± {se}");
    }

    [Fact]
    public void TanhFfnnOfWidth1000MatchesTheMapsWithinSamplingError()
    {
        var map = new MeanFieldMap("tanh", 1.8, 0.3);
        var theory = Propagation.FeedForward(map, 1.2, 0.4, 5);
        var sim = Simulate("tanh", 1.8, 0.3, 1.2, 0.4, 5, residual: 0, scale: 1);
        for (var l = 1; l <= 5; l++)
        {
            AssertWithin(theory[l].Q, sim[l].Q, sim[l].QSe, 1000, $"q^{l}");
            AssertWithin(theory[l].C, sim[l].C, sim[l].CSe, 1000, $"c^{l}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReluResNetsOfWidth1000MatchPropositionTwoWithinSamplingError(bool stable)
    {
        const int blocks = 4;
        var map = new MeanFieldMap("relu", 1.2, 0);
        var theory = Propagation.ResNet(map, 1.0, 0.3, blocks, stable);
        var sim = Simulate("relu", 1.2, 0, 1.0, 0.3, blocks, residual: 1, scale: stable ? 1 / Math.Sqrt(blocks) : 1);
        for (var l = 1; l <= blocks; l++)
        {
            Assert.Equal(Propagation.ReluResNetVariance(1.0, 1.2, l, blocks, stable), theory[l].Q, 1e-11);
            AssertWithin(theory[l].Q, sim[l].Q, sim[l].QSe, 1000, $"q^{l}");
            AssertWithin(theory[l].C, sim[l].C, sim[l].CSe, 1000, $"c^{l}");
        }
    }

    [Fact]
    public void ConvolutionalCorrelationAveragesTheKernelWindowPeriodically()
    {
        // Seed 001 Appendix Lemma 1, by hand with f(x) = x², n = 3, k = 1.
        double[,] c0 = { { 1, 0.5, 0.2 }, { 0.1, 0.3, 0.7 }, { 0.4, 0.6, 0.8 } };
        var c = Propagation.Convolutional(x => x * x, c0, 1, 1);
        Assert.Equal((0.64 + 1 + 0.09) / 3, c[1][0, 0], 1e-15);
        Assert.Equal((0.16 + 0.25 + 0.49) / 3, c[1][0, 1], 1e-15);
        Assert.Equal((0.49 + 0.16 + 0.25) / 3, c[1][1, 2], 1e-15);
    }

    [Fact]
    public void ConvolutionalWithConstantCorrelationReducesToTheFfnnMap()
    {
        var c0 = new double[4, 4];
        for (var a = 0; a < 4; a++) for (var b = 0; b < 4; b++) c0[a, b] = 0.1;
        var c = Propagation.Convolutional(Propagation.ReluCorrelation, c0, 1, 3);
        var x = 0.1;
        for (var l = 1; l <= 3; l++)
        {
            x = Propagation.ReluCorrelation(x);
            Assert.Equal(x, c[l][2, 1], 1e-14);
        }
    }

    [Fact]
    public void PrunedResNetCorrelationApproachesOneLikeFourOverEtaSquaredLSquared()
    {
        // Seed 001 Prop 3: 1 − ĉ^l ~ 4/(η² l²); the ratio tends to 1 and gets closer with depth.
        var c = Propagation.PrunedResNetCorrelation(0.2, 1.0, 200_000);
        double Ratio(int l) => (1 - c[l]) / Propagation.PrunedResNetAsymptote(1.0, l);
        Assert.InRange(Ratio(200_000), 0.97, 1.03);
        Assert.True(Math.Abs(Ratio(200_000) - 1) < Math.Abs(Ratio(2_000) - 1));
    }

    [Fact]
    public void GradientSecondMomentsAndConditioningByHand()
    {
        // Seed 001 Appendix B.1.2: q̃^l = q̃^{l+1} (N_{l+1}/N_l) χ.
        var qt = Propagation.GradientSecondMoments([10, 20, 5], 0.9);
        Assert.Equal([0.405, 0.225, 1.0], qt.Select(x => Math.Round(x, 12)));
        // Constant width: m_l/m_L = χ^{L−l} (Theorem 1's proof).
        var ratios = Propagation.ConditioningRatios([50, 50, 50, 50, 50], 0.8);
        Assert.Equal([0.512, 0.64, 0.8, 1.0], ratios.Select(x => Math.Round(x, 12)));
    }
}
