using InitPrune.Engine;
using InitPrune.Theory;
using MathNet.Numerics;
using MathNet.Numerics.Distributions;

namespace InitPrune.Tests.Theory.Probabilistic;

public class BoundTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(10, 3, 1)]
    [InlineData(10, 3, 2)]
    [InlineData(50, 50, 2)]
    [InlineData(200, 7, 3)]
    public void Lemma1MatchesQuadratureOfTheOrderStatisticDensity(int n, int r, int p)
    {
        // |U|_(r)/a ~ Beta(r, n − r + 1); integrate (a t)^{2p} against that density numerically.
        const double a = 0.7;
        double quad = Integrate.OnClosedInterval(t => Math.Pow(a * t, 2 * p) * Beta.PDF(r, n - r + 1, t), 0, 1, 1e-12);
        Assert.Equal(quad, UniformOrderStatistics.Moment(a, n, r, p), 1e-9);
    }

    [Fact]
    public void Lemma1HandCases()
    {
        Assert.Equal(1.0 / 3, UniformOrderStatistics.Moment(1, 1, 1, 1), 1e-12); // E U², U ~ U[−1, 1]
        Assert.Equal(1.0 / 5, UniformOrderStatistics.Moment(1, 1, 1, 2), 1e-12); // E U⁴
        Assert.Equal(2, UniformOrderStatistics.Moment(2, 2, 2, 1), 1e-12); // E max(U1², U2²) = 4 ∫ 2t·t² dt = 2
    }

    [Theory]
    [InlineData(32, 0.1)]
    [InlineData(128, 0.5)]
    [InlineData(1024, 0.9)]
    public void Lemma1RespectsTheProofsMomentBoundsOfTheorem1(int d, double alpha)
    {
        // App. B.2: the largest pruned entry e of a d×d layer has E e² ≤ 2K² d^{−1−4α} and E e⁴ ≤ 24K⁴ d^{−2−8α}.
        const double k = 1.3;
        int n = d * d, r = (int)Math.Floor(Math.Pow(n, 1 - alpha));
        double a = k / Math.Sqrt(d);
        Assert.True(UniformOrderStatistics.Moment(a, n, r, 1) <= 2 * k * k * Math.Pow(d, -1 - 4 * alpha));
        Assert.True(UniformOrderStatistics.Moment(a, n, r, 2) <= 24 * Math.Pow(k, 4) * Math.Pow(d, -2 - 8 * alpha));
    }

    static MagnitudePruningInput Thm1(int d) => new([d / 2, d, d, d / 4], Alpha: 0.9, Epsilon: 10, Delta: 0.5, Lipschitz: [1]);

    [Fact]
    public void Theorem1HandComputedDepth3()
    {
        var r = MagnitudePruningBound.Evaluate(Thm1(128));
        double c0 = 1.218, c2 = 0.627 * (2 * Math.Sqrt(2) + Math.Pow(24, 0.25));
        Assert.Equal(c2, r.SmallC2, 12);
        Assert.Equal(Math.Pow(128, -0.9) * c0 * c0, r.GapBound, 12); // (2^1 − 1) d^{−α} L c0^{l−1}
        double e = Math.Exp(-4 * 0.005 * 128);
        Assert.Equal((1 - 2 * e) * (1 - c2 * Math.Pow(128, -0.9) - 4 * e), r.SuccessProbability, 12);
        Assert.Equal([(long)Math.Floor(Math.Pow(128 * 128, 0.1))], r.PrunedPerLayer);
    }

    [Fact]
    public void Theorem1RequiredWidthDeliversTheGuarantee()
    {
        double need = MagnitudePruningBound.Evaluate(Thm1(8)).RequiredWidth;
        int d = (int)Math.Ceiling(need);
        var r = MagnitudePruningBound.Evaluate(Thm1(d));
        Assert.True(r.WidthSufficient);
        Assert.True(r.GapConditionHolds);
        Assert.True(r.GapBound <= 10);
        Assert.True(r.SuccessProbability >= 1 - 0.5, $"p0 = {r.SuccessProbability} at d = {r.D}");
        Assert.False(MagnitudePruningBound.Evaluate(Thm1(8)).WidthSufficient);
    }

    static RandomPruningInput Thm2(int d) => new([d / 2, d, d, d / 4], Alpha: 0.9, Epsilon: 20, Delta: 0.5, Lipschitz: [1], NormBounds: [2.5], NormDeltas: [0.01]);

    [Fact]
    public void Theorem2RequiredWidthDeliversTheGuarantee()
    {
        var small = RandomPruningBound.Evaluate(Thm2(64));
        Assert.Equal(0.5 - (0.01 + 2 * 0.01 + 0.01), small.SmallDelta0, 12); // Eq. (5) for l = 3
        Assert.False(small.WidthSufficient);
        int d = (int)Math.Ceiling(small.RequiredWidth);
        var r = RandomPruningBound.Evaluate(Thm2(d));
        Assert.True(r.WidthSufficient);
        Assert.True(r.GapConditionHolds);
        Assert.True(r.GapBound <= 20);
        Assert.True(r.SuccessProbability >= 1 - 0.5, $"p0 = {r.SuccessProbability} at d = {r.D}");
        Assert.False(r.AlphaAdmissible); // α = 0.9 prunes only D^{0.1} ≪ d log d weights: Lemma 6 does not apply
        Assert.True(RandomPruningBound.Evaluate(Thm2(1024) with { Alpha = 0.3 }).AlphaAdmissible);
    }

    [Fact]
    public void Theorem2DeltaBudgetAndRangeErrors()
    {
        var over = RandomPruningBound.Evaluate(Thm2(64) with { NormDeltas = [0.2] }); // 0.2·(1 + 2 + 1) = 0.8 > δ
        Assert.False(over.DeltaBudgetHolds);
        Assert.True(double.IsPositiveInfinity(over.RequiredWidth));
        Assert.Throws<InitPruneException>(() => RandomPruningBound.Evaluate(Thm2(64) with { Alpha = 1.2 }));
        Assert.Throws<InitPruneException>(() => RandomPruningBound.Evaluate(Thm2(64) with { NormBounds = [1, 2] }));
        Assert.Throws<InitPruneException>(() => RandomPruningBound.Evaluate(Thm2(64) with { Widths = [4, 8, 2] }));
    }

    [Fact]
    public void ConditionsThreeFourWithThePlusSignGuaranteeBallsIntoBins()
    {
        // The closed form α ≤ 1 − (log(n+1) + log log n)/log D must imply ⌊D^{1−α}⌋ ≥ n log n, which Lemma 6 needs;
        // the printed sign (− log log n) does not: at d = 128 it allows α = 0.662, which prunes 26 < 128 log 128 weights.
        for (int n = 3; n <= 4000; n += 7)
        {
            double logD = 2 * Math.Log(n);
            double alpha = BoundInputs.AlphaMax(n, logD);
            Assert.True(Math.Floor(Math.Exp((1 - alpha) * logD)) >= n * Math.Log(n), $"n = {n}");
        }
        double printed = 1 - (Math.Log(129) - Math.Log(Math.Log(128))) / (2 * Math.Log(128));
        Assert.True(Math.Floor(Math.Pow(128.0 * 128, 1 - printed)) < 128 * Math.Log(128));
        var r = RandomPruningBound.Evaluate(Thm2(128) with { Alpha = printed });
        Assert.False(r.AlphaAdmissible);
    }

    [Theory]
    [InlineData(128, 0.6729)]
    [InlineData(1024, 0.7205)]
    public void Theorem3AlphaBoundMatchesThePaper(int d, double paper)
    {
        var r = ConvPruningBound.Evaluate(Thm3(d));
        Assert.Equal(paper, r.AlphaMax, 3.5e-4);
        Assert.True(r.BallsIntoBinsHolds);
    }

    static ConvPruningInput Thm3(int d) => new(3, d, 3, 10, 32, 32, 3, Lipschitz: 1.5, Alpha: 0.5, Beta1: 0.3, Beta2: 0.1);

    [Fact]
    public void Theorem3GapAtDepth3ReducesToItsClosedForm()
    {
        // l = 3: p^{−β1} L² p0 √d [p^{−β1}(p^{−β1} + d^{−β2}) − p^{−2β1}] = L² p0 √d p^{−2β1} d^{−β2}.
        var r = ConvPruningBound.Evaluate(Thm3(64));
        Assert.Equal(1.5 * 1.5 * 32 * 8 * Math.Pow(32, -0.6) * Math.Pow(64, -0.1), r.GapBound, 10);
        double c3 = 0.627 * (2 + Math.Pow(3, 0.25)), c4 = 0.627 * (2 * Math.Sqrt(3) + Math.Pow(3, 0.25));
        double pBar = 1 - c4 * 9 / 32.0 * Math.Pow(64, -0.125 + 0.1) - 2 * c3 * 9 / Math.Pow(32, 0.7) - c3 / Math.Pow(32, 0.7);
        Assert.Equal(pBar, r.WeightProbability, 12);
        Assert.Equal(Math.Pow(1 - Math.Pow(64, -1.0 / 3), 2) * pBar, r.SuccessProbability, 12);
        Assert.Throws<InitPruneException>(() => ConvPruningBound.Evaluate(Thm3(64) with { Beta2 = 0.2 }));
    }

    [Fact]
    public void A_guarantee_with_a_negative_factor_is_vacuous_not_a_product_of_negatives()
    {
        Assert.Equal(-0.5, BoundInputs.Guarantee(-0.5, -0.2), 15);
        Assert.Equal(-0.2, BoundInputs.Guarantee(0.9, -0.2), 15);
        Assert.Equal(0.9 * 0.8, BoundInputs.Guarantee(0.9, 0.8), 15);
        // Theorem 1 at d = 16, α = 0.3, l = 3 (the gap study's smallest case): both factors of p0 are negative there.
        var r = MagnitudePruningBound.Evaluate(Thm1(16) with { Alpha = 0.3 });
        Assert.True(r.SuccessProbability <= 0, $"p0 = {r.SuccessProbability} at d = 16 reads as a probability");
    }
}
