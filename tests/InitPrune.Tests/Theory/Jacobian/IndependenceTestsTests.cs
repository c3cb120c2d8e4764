using InitPrune.Theory;
using MathNet.Numerics;
using MathNet.Numerics.Distributions;

namespace InitPrune.Tests.Theory.Jacobian;

public class IndependenceTestsTests
{
    [Fact]
    public void TheTableCountsTheFourCombinations()
    {
        bool[] a = [false, false, true, true, true, false];
        bool[] b = [false, true, true, true, false, false];
        Assert.Equal(new Table2x2(2, 1, 1, 2), Table2x2.Of(a, b));
    }

    [Fact]
    public void ChiSquareMatchesAHandComputedTable()
    {
        // N = 100, margins r = (30, 70), c = (40, 60), ad − bc = 10·40 − 20·30 = −200: χ² = 100·200²/(30·70·40·60) = 4e6/5.04e6.
        var t = new Table2x2(10, 20, 30, 40);
        var pearson = IndependenceTests.ChiSquare(t);
        Assert.Equal(4e6 / 5.04e6, pearson.Statistic, 12);
        Assert.Equal(1 - ChiSquared.CDF(1, 4e6 / 5.04e6), pearson.PValue, 12);
        Assert.False(pearson.Degenerate);
        // Yates: (|ad − bc| − N/2)² = 150².
        var yates = IndependenceTests.ChiSquare(t, yates: true);
        Assert.Equal(100.0 * 150 * 150 / 5.04e6, yates.Statistic, 12);
        Assert.Equal(1 - ChiSquared.CDF(1, yates.Statistic), yates.PValue, 12);
    }

    [Fact]
    public void ChiSquareOfIndependentPerfectlyDependentAndDegenerateTables()
    {
        var even = IndependenceTests.ChiSquare(new Table2x2(25, 25, 25, 25));
        Assert.Equal(0, even.Statistic);
        Assert.Equal(1, even.PValue);
        // Identical variables: χ² = N = 100, P(χ²(1) ≥ x) = erfc(√(x/2)), far below what 1 − CDF resolves.
        var same = IndependenceTests.ChiSquare(new Table2x2(50, 0, 0, 50));
        Assert.Equal(100, same.Statistic, 10);
        Assert.Equal(SpecialFunctions.Erfc(Math.Sqrt(50)), same.PValue, 1e-30);
        Assert.True(same.PValue is > 0 and < 1e-20);
        var constant = IndependenceTests.ChiSquare(new Table2x2(10, 0, 5, 0));
        Assert.True(constant.Degenerate);
        Assert.True(double.IsNaN(constant.PValue));
    }

    [Fact]
    public void RandomizedPValueOfSmallTablesByHand()
    {
        // N = 2, margins 1, 1: n11 ∈ {0, 1} with probability ½ each and equal |N n11 − r1 c1| = 1, so p = u.
        Assert.Equal(0.3, IndependenceTests.RandomizedPValue(new Table2x2(1, 0, 0, 1), 0.3), 12);
        // N = 4, margins 2, 2: P(n11 = 0, 1, 2) = 1/6, 4/6, 1/6 with deviations 4, 0, 4; n11 = 2 ties with n11 = 0: p = u/3.
        Assert.Equal(0.5 / 3, IndependenceTests.RandomizedPValue(new Table2x2(2, 0, 0, 2), 0.5), 12);
        // n11 = 1 (deviation 0): every table is at least as extreme, 4/6 of them tied: p = 2/6 + u·4/6.
        Assert.Equal(2.0 / 6 + 0.25 * 4 / 6, IndependenceTests.RandomizedPValue(new Table2x2(1, 1, 1, 1), 0.25), 12);
        Assert.True(double.IsNaN(IndependenceTests.RandomizedPValue(new Table2x2(10, 0, 5, 0), 0.5)));
    }

    [Fact]
    public void RandomizedPValuesOfIndependentCoinsAreUniform()
    {
        var rng = new Random(11);
        var p = new List<double>();
        for (int k = 0; k < 500; k++)
        {
            bool[] a = [.. Enumerable.Range(0, 400).Select(_ => rng.NextDouble() < 0.5)];
            bool[] b = [.. Enumerable.Range(0, 400).Select(_ => rng.NextDouble() < 0.5)];
            p.Add(IndependenceTests.RandomizedPValue(Table2x2.Of(a, b), rng.NextDouble()));
        }
        Assert.True(IndependenceTests.UniformKs(p).PValue > 0.05);
        Assert.InRange(p.Count(v => v < 0.05) / 500.0, 0.02, 0.09);
    }

    [Fact]
    public void KsStatisticOfOnePointAndUniformityVerdicts()
    {
        Assert.Equal(0.5, IndependenceTests.UniformKs([0.5]).Statistic, 12);
        var rng = new Random(7);
        double[] uniform = [.. Enumerable.Range(0, 2000).Select(_ => rng.NextDouble())];
        var accept = IndependenceTests.UniformKs(uniform);
        Assert.True(accept.PValue > 0.05, $"U(0, 1) draws rejected: D = {accept.Statistic}, p = {accept.PValue}");
        // U² has CDF √x: D = max(√x − x) = 1/4 in the limit.
        double[] squared = [.. uniform.Select(u => u * u)];
        var reject = IndependenceTests.UniformKs(squared);
        Assert.InRange(reject.Statistic, 0.2, 0.3);
        Assert.True(reject.PValue < 1e-10, $"U² accepted as uniform: p = {reject.PValue}");
    }

    [Fact]
    public void ClopperPearsonIntervalsMatchClosedForms()
    {
        // k = 0: [0, 1 − (a/2)^{1/n}]; k = n: [(a/2)^{1/n}, 1].
        var none = IndependenceTests.Binomial(0, 10);
        Assert.Equal(0, none.Lower);
        Assert.Equal(1 - Math.Pow(0.025, 0.1), none.Upper, 9);
        var all = IndependenceTests.Binomial(10, 10);
        Assert.Equal(Math.Pow(0.025, 0.1), all.Lower, 9);
        Assert.Equal(1, all.Upper);
        // 5 of 10: the tabulated exact interval [0.1871, 0.8129]; both ends put a/2 in the binomial tail.
        var half = IndependenceTests.Binomial(5, 10);
        Assert.Equal(0.187086, half.Lower, 5);
        Assert.Equal(0.812914, half.Upper, 5);
        Assert.Equal(0.025, 1 - Binomial.CDF(half.Lower, 10, 4), 9);
        Assert.Equal(0.025, Binomial.CDF(half.Upper, 10, 5), 9);
        Assert.True(half.Contains(0.5));
    }

    [Fact]
    public void CorrelationAndItsPValueByHand()
    {
        // r = 4/5; t = r √(2/(1 − r²)), and with 2 degrees of freedom P(|T| ≥ t) = 1 − t/√(2 + t²) = 1 − r = 0.2.
        var c = IndependenceTests.Correlation([1.0, 2, 3, 4], [1.0, 3, 2, 4]);
        Assert.Equal(0.8, c.R, 12);
        Assert.Equal(0.2, c.PValue, 10);
        Assert.True(double.IsNaN(IndependenceTests.Correlation([1.0, 1, 1], [1.0, 2, 3]).R));
    }
}
