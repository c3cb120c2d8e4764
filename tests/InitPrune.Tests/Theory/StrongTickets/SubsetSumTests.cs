using InitPrune.Engine;
using InitPrune.Theory;

namespace InitPrune.Tests.Theory.StrongTickets;

public class SubsetSumTests
{
    [Fact]
    public void MeetInTheMiddleEqualsEnumeration()
    {
        var random = new Random(9);
        for (int trial = 0; trial < 60; trial++)
        {
            int n = random.Next(0, 13);
            double[] items = [.. Enumerable.Range(0, n).Select(_ => random.NextDouble() * (2 * random.NextDouble() - 1))];
            double target = 2 * random.NextDouble() - 1;
            // Independent truth: every bit mask, summed directly.
            double best = double.PositiveInfinity;
            for (int mask = 0; mask < 1 << n; mask++)
            {
                double sum = 0;
                for (int i = 0; i < n; i++) if ((mask >> i & 1) == 1) sum += items[i];
                best = Math.Min(best, Math.Abs(target - sum));
            }
            Assert.Equal(best, SubsetSum.BestError(items, target), 12);
        }
    }

    [Fact]
    public void ReachableTargetsAreHitExactly()
    {
        Assert.Equal(0, SubsetSum.BestError([0.25, -0.5, 0.125], -0.375));
        Assert.Equal(0.25, SubsetSum.BestError([0.5], 0.25), 15);
        Assert.Equal([0, 1, 2, 3], SubsetSum.Sums([1, 2]));
    }

    [Fact]
    public void BestErrorDecaysLikeTwoToTheMinusN()
    {
        var result = SubsetSumStudy.Run([6, 8, 10, 12, 14, 16, 18], [-0.9, -0.4, 0.3, 0.8], 40, 0);
        // 2ⁿ subset sums over a range growing like √n: the slope of ln(median) must be near −ln 2 and the Poisson prediction.
        Assert.InRange(result.Slope, -Math.Log(2) - 0.1, -Math.Log(2) + 0.1);
        Assert.InRange(result.Slope - result.PoissonSlope, -0.1, 0.1);
        Assert.All(result.Rows.Where(r => r.N >= 10), r => Assert.InRange(r.MedianError / r.PoissonMedian, 0.5, 2));
        Assert.All(result.Rows, r => Assert.True(r.LowerQuartile <= r.MedianError && r.MedianError <= r.UpperQuartile));
    }

    [Fact]
    public void PoissonMedianOfOneTargetIsLn2OverTwiceTheDensity()
    {
        double density = Math.Pow(2, 12) * Math.Exp(-0.25 / (2 * 12 / 18.0)) / Math.Sqrt(2 * Math.PI * 12 / 18.0);
        Assert.Equal(Math.Log(2) / (2 * density), SubsetSumStudy.PoissonMedian(12, [0.5]), 15);
    }

    [Fact]
    public void ImpossibleStudiesAreUserErrors()
    {
        Assert.Throws<InitPruneException>(() => SubsetSumStudy.Run([4, 6], [0.0], 5, 0));
        Assert.Throws<InitPruneException>(() => SubsetSumStudy.Run([4, 6], [1.5], 5, 0));
        Assert.Throws<InitPruneException>(() => SubsetSumStudy.Run([4], [0.5], 5, 0));
        Assert.Throws<InitPruneException>(() => SubsetSumStudy.Run([4, 60], [0.5], 5, 0));
        Assert.Throws<InitPruneException>(() => SubsetSumStudy.Run([4, 6], [0.5], 0, 0));
    }
}
