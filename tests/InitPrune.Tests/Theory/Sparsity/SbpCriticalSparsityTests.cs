using InitPrune.Engine;
using InitPrune.Theory;

namespace InitPrune.Tests.Theory.Sparsity;

public class SbpCriticalSparsityTests
{
    [Fact]
    public void PaperExampleOnlyMatchesWithBase10Logs()
    {
        // L = N = 100, κ = 0.2: κLN² = 2e5; by hand (1 + log10(2e5)/0.2)/100 = (1 + 5.30103/0.2)/100 = 0.27505
        // and (1 + ln(2e5)/0.2)/100 = (1 + 12.20607/0.2)/100 = 0.62030. Seed 001 §2.2 reports "≈ 27%".
        Assert.Equal(0.27505, SbpCriticalSparsity.Bound(100, 100, 0.2, LogBase.Ten), 5);
        Assert.Equal(0.62030, SbpCriticalSparsity.Bound(100, 100, 0.2, LogBase.Natural), 5);
    }

    [Fact]
    public void KappaIsAnEighthOfTheLogDistanceFromTheEdge()
    {
        Assert.Equal(0.2, SbpCriticalSparsity.Kappa(Math.Exp(-1.6)), 12);
        Assert.Equal(0.2, SbpCriticalSparsity.Kappa(Math.Exp(1.6)), 12);
        Assert.Equal(0.0, SbpCriticalSparsity.Kappa(1.0));
    }

    [Theory]
    [InlineData(10, 100, 0.0)]
    [InlineData(0, 100, 0.2)]
    [InlineData(10, -1, 0.2)]
    [InlineData(10, 100, double.NaN)]
    public void ImpossibleInputsAreUserErrors(int depth, int width, double kappa) =>
        Assert.Throws<InitPruneException>(() => SbpCriticalSparsity.Bound(depth, width, kappa));

    [Fact]
    public void NonPositiveChiIsAUserError() => Assert.Throws<InitPruneException>(() => SbpCriticalSparsity.Kappa(0));
}
