using InitPrune.Engine;
using InitPrune.Theory;

namespace InitPrune.Tests.Theory.StrongTickets;

public class ZeroBiasCounterexampleTests
{
    [Fact]
    public void ConstantHalfHasTheHandComputedOptimum()
    {
        // By hand: ∫₀¹ (c − w x) x dx = 0 gives w = 3c/2, and each half-line leaves ∫₀¹ (c − 3c/2 x)² dx = c²/4.
        var fit = ZeroBiasCounterexample.BestFit(0.5);
        Assert.Equal(0.75, fit.WPlus, 12);
        Assert.Equal(0.75, fit.WMinus, 12);
        Assert.Equal(1.0 / 8, fit.Integral, 12);
        Assert.Equal(1.0 / 16, fit.MeanSquaredError, 12);
    }

    [Theory]
    [InlineData(-2.0)]
    [InlineData(0.1)]
    [InlineData(3.0)]
    public void NoOtherPairDoesBetter(double c)
    {
        var fit = ZeroBiasCounterexample.BestFit(c);
        Assert.Equal(c * c / 2, fit.Integral, 10);
        // Second method: the closed-form error of any (w₊, w₋) on a grid around the optimum is never smaller.
        static double Error(double c, double w) => c * c - c * w + w * w / 3;
        for (double dw = -0.5; dw <= 0.5; dw += 0.01)
            Assert.True(Error(c, fit.WPlus + dw) + Error(c, fit.WMinus) >= fit.Integral - 1e-12);
    }

    [Fact]
    public void NonFiniteConstantIsAUserError() =>
        Assert.Throws<InitPruneException>(() => ZeroBiasCounterexample.BestFit(double.NaN));
}
