using InitPrune.Engine;
using InitPrune.Theory;
using MathNet.Numerics.Distributions;

namespace InitPrune.Tests.Theory.Sparsity;

public class MbpCriticalSparsityTests
{
    // Q_x of |N(0,1)| through MathNet's normal quantile, independently of the erfc⁻¹ form the library uses.
    static double Q(double x) => Normal.InvCDF(0, 1, (1 + x) / 2);

    [Theory]
    [InlineData(0.5, 2.0)]
    [InlineData(0.7, 5.0)]
    [InlineData(0.5, 10.0)]
    [InlineData(0.9, 3.0)]
    public void XEpsilonGammaIsWhereTheQuantileInequalityStartsToHold(double epsilon, double gamma)
    {
        double a = Math.Pow(gamma, 2 - epsilon), x0 = MbpCriticalSparsity.XEpsilonGamma(epsilon, gamma);
        bool Holds(double x) => gamma * Q(x) > Q(1 - Math.Pow(1 - x, a));
        Assert.InRange(x0, 1e-3, 1 - 1e-6);
        // Up to where 1 − (1−x)^a still differs from 1 in double precision (the quantile then is infinite).
        double uMin = Math.Pow(1e-12, 1 / a);
        for (int i = 0; i <= 200; i++)
        {
            double x = x0 + 1e-9 + (1 - uMin - x0 - 1e-9) * i / 200;
            Assert.True(Holds(x), $"fails at x = {x}");
        }
        Assert.False(Holds(x0 - 1e-7));
    }

    [Fact]
    public void BoundIsTheInfimumOfTheBracketOverEpsilon()
    {
        var b = MbpCriticalSparsity.LargeDepthBound(5, 1e4);
        for (double e = 0.05; e < 2; e += 0.05)
            Assert.True(b.Value <= MbpCriticalSparsity.BoundAt(e, 5, 1e4) + 1e-9, $"ε = {e}");
        Assert.Equal(MbpCriticalSparsity.BoundAt(b.Epsilon, 5, 1e4), b.Value, 12);
    }

    [Fact]
    public void BoundHoldsAgainstSimulatedMagnitudePruning()
    {
        // A 41-layer, width-20 MLP whose first layer's weights are 3× smaller: l0 = layer 1, ζ_{l0}N² = 400.
        // The bound holds on E[s_cr] up to O(1/√(LN²)); allow that and 5 standard errors of the sample mean.
        var bound = MbpCriticalSparsity.LargeDepthBound(3, 400);
        var sim = CriticalSparsitySimulation.Run(new CriticalSparsitySpec(Depth: 40, Width: 20, Method: "magnitude", Samples: 8, FirstLayerShrink: 3));
        double slack = 1 / Math.Sqrt(41 * 400.0) + 5 * sim.StdError;
        Assert.True(sim.Mean <= bound.Value + slack, $"empirical {sim.Mean} above the bound {bound.Value}");
        Assert.True(sim.Mean >= bound.Value - 0.1, $"empirical {sim.Mean} far below the bound {bound.Value}: it is tight at this size");
    }

    [Fact]
    public void LargeWidthProbabilityHandComputed()
    {
        // 1 − 2π²/(4·2²·ln(100)²) = 1 − 19.73921/(16·21.20759) = 0.94183.
        Assert.Equal(0.94183, MbpCriticalSparsity.LargeWidthProbability(2, 100, 3), 5);
        Assert.Equal(0.0, MbpCriticalSparsity.LargeWidthProbability(100, 10, 1.5));
        Assert.Throws<InitPruneException>(() => MbpCriticalSparsity.LargeWidthProbability(2, 100, 1));
    }
}
