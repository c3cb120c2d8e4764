using InitPrune.Engine;
using InitPrune.Theory;
using MathNet.Numerics;

namespace InitPrune.Tests.Theory.Sparsity;

public class RescalingFactorsTests
{
    [Fact]
    public void TopSumHandComputedCases()
    {
        // E[max(X1², X2²)] = 2 − E[min] and E[min(X1², X2²)] = 1 − 2/π, so the top 1 of 2 has mean 1 + 2/π.
        Assert.Equal(1 + 2 / Math.PI, RescalingFactors.TopSumExact(2, 1), 9);
        Assert.Equal(7.0, RescalingFactors.TopSumExact(7, 7), 12);
        Assert.Equal(1.0, RescalingFactors.MagnitudeExact(6, 0), 12);
        Assert.Equal(2.0, RescalingFactors.Random(0.75), 12);
    }

    [Fact]
    public void TopSumMatchesMonteCarloOrderStatistics()
    {
        // n = 4: the 5 largest of 16 χ²(1) draws, 40,000 replicates, within 5 standard errors.
        const int m = 16, r = 5, reps = 40_000;
        var rng = new Random(3);
        var sums = new double[reps];
        var buf = new double[m];
        for (int k = 0; k < reps; k++)
        {
            for (int i = 0; i < m; i++)
            {
                double z = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                buf[i] = z * z;
            }
            Array.Sort(buf);
            for (int i = m - r; i < m; i++) sums[k] += buf[i];
        }
        double mean = sums.Average(), se = Math.Sqrt(sums.Sum(s => (s - mean) * (s - mean)) / (reps - 1) / reps);
        Assert.InRange(RescalingFactors.TopSumExact(m, r), mean - 5 * se, mean + 5 * se);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.1)]
    [InlineData(0.01)]
    public void LargeNClosedFormEqualsTheQuantileIntegral(double keep)
    {
        // ∫_{1−p}^1 F⁻¹(u) du with F⁻¹(u) = 2·erfc⁻¹(1 − u)², substituting 1 − u = p·e^{−t}.
        double integral = Integrate.GaussKronrod(t => 2 * Math.Pow(SpecialFunctions.ErfcInv(keep * Math.Exp(-t)), 2) * keep * Math.Exp(-t), 0, 600, 1e-12, 25, 61);
        Assert.Equal(integral, RescalingFactors.TopMeanLargeN(keep), 9);
    }

    [Fact]
    public void ExactFactorConvergesToTheLargeNLimit()
    {
        // s = 0.9 keeps exactly n²/10 weights for n = 10, 30, 100; the gap to the limit shrinks with n.
        double limit = RescalingFactors.MagnitudeLargeN(0.9);
        double[] gaps = [.. new[] { 10, 30, 100 }.Select(n => Math.Abs(RescalingFactors.MagnitudeExact(n, 0.9) - limit))];
        Assert.True(gaps[0] > gaps[1] && gaps[1] > gaps[2], string.Join(", ", gaps));
        Assert.True(gaps[2] < 1e-3 * limit, $"{gaps[2]}");
        Assert.True(limit < RescalingFactors.Random(0.9));
    }

    [Fact]
    public void EdgeOfStabilityHandComputed()
    {
        // n = 1000: log10(n)^4/n = 81/1000; ln(1000)^4/1000 = 6.907755^4/1000 = 2.27692, a vacuous condition.
        Assert.Equal(0.919, RescalingFactors.EdgeOfStability(1000, 4, LogBase.Ten), 12);
        Assert.Equal(1 - 2.27692, RescalingFactors.EdgeOfStability(1000, 4), 5);
        Assert.Throws<InitPruneException>(() => RescalingFactors.MagnitudeExact(5, 0.99));
        Assert.Throws<InitPruneException>(() => RescalingFactors.Random(1));
    }
}
