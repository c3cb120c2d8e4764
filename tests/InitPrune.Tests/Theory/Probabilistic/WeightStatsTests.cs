using InitPrune.Tests.Cli;
using InitPrune.Theory;
using MathNet.Numerics.Distributions;

namespace InitPrune.Tests.Theory.Probabilistic;

public class WeightStatsTests
{
    [Fact]
    public void NormalSampleIsAcceptedUniformIsRejectedAndMomentsMatchClosedForms()
    {
        var rng = new Random(21);
        const int n = 4000;
        // N(0.1, 0.04) with fan-in 50: variance × fan-in = 2.
        var normal = Enumerable.Range(0, n).Select(_ => Normal.Sample(rng, 0.1, 0.2)).ToArray();
        var s = WeightStats.Of(normal, 50, 20);
        Assert.Equal(0.1, s.Mean, 0.01);
        Assert.Equal(2.0, s.VarianceTimesFanIn, 0.1);
        Assert.Equal(s.Variance * 50, s.VarianceTimesMaxFan, 12);
        Assert.Equal(0, s.ExcessKurtosis, 0.2);
        Assert.True(s.AdPValue > 0.05, $"AD p {s.AdPValue}");
        Assert.True(s.KsPValue > 0.05, $"KS p {s.KsPValue}");
        // U[−a, a], a = √(3/fan-in): variance × fan-in = 1, excess kurtosis −1.2.
        double a = Math.Sqrt(3.0 / 64);
        var uniform = Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 2 - 1) * a).ToArray();
        var u = WeightStats.Of(uniform, 64, 128);
        Assert.Equal(1.0, u.VarianceTimesFanIn, 0.05);
        Assert.Equal(2.0, u.VarianceTimesMaxFan, 0.1);
        Assert.Equal(-1.2, u.ExcessKurtosis, 0.05);
        Assert.True(u.AdPValue < 1e-6, $"AD p {u.AdPValue}");
        Assert.True(u.KsPValue < 0.01, $"KS p {u.KsPValue}");
        var big = WeightStats.Of([.. Enumerable.Range(0, 65536).Select(_ => rng.NextDouble() - 0.5)], 256, 256);
        Assert.True(big.AdStatistic > 153 && big.AdPValue == 0, $"A² {big.AdStatistic}, p {big.AdPValue}");
    }

    [Fact]
    public void PValuesAtTabulatedCriticalValues()
    {
        Assert.Equal(0.05, WeightStats.KolmogorovP(1.3581), 5e-4); // Kolmogorov's 95% point
        Assert.Equal(0.01, WeightStats.KolmogorovP(1.6276), 5e-4);
        Assert.Equal(0.05, WeightStats.AndersonDarlingP(0.752), 3e-3); // Stephens' case 3, 5% point
        Assert.Equal(0.01, WeightStats.AndersonDarlingP(1.035), 1e-3);
        // Decreasing all the way: a huge statistic (a 256×256 uniform layer gives A² in the hundreds) is no evidence for normality.
        double[] grid = [.. Enumerable.Range(0, 4000).Select(i => i * 0.25)];
        Assert.All(grid.Zip(grid.Skip(1)), p => Assert.True(WeightStats.AndersonDarlingP(p.Second) <= WeightStats.AndersonDarlingP(p.First)));
        Assert.Equal(0, WeightStats.AndersonDarlingP(500));
        Assert.Equal((25L * 9, 10L * 9), WeightStats.Fans([10, 25, 3, 3]));
    }

    [Fact]
    public void CliReportsEveryLayerOnATinyTask()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"initprune-ws-{Guid.NewGuid():N}");
        var r = CliRunner.Run("theory", "weight-stats", "--dataset", "ellipse", "--depth", "2", "--width", "16", "--epochs", "1", "--json", "--out", dir);
        Assert.Equal(0, r.ExitCode);
        var layers = r.Json.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(3, layers.Count);
        var l1 = layers[1];
        Assert.Equal(16, l1.GetProperty("initial").GetProperty("fan_in").GetInt64());
        // Glorot uniform: Var = 2/(fan_in + fan_out) = 1/16 → variance × fan-in ≈ 1.
        Assert.Equal(1.0, l1.GetProperty("initial").GetProperty("variance_times_fan_in").GetDouble(), 0.35);
        Assert.NotEqual(l1.GetProperty("initial").GetProperty("mean").GetDouble(), l1.GetProperty("trained").GetProperty("mean").GetDouble());
        Assert.True(File.Exists(Path.Combine(dir, "weight-stats.json")));
        Assert.NotEmpty(Directory.GetFiles(dir, "hist-*.png"));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void UnknownModelIsOneLine()
    {
        var r = CliRunner.Run("theory", "weight-stats", "--model", "vgg17", "--out", Path.Combine(Path.GetTempPath(), $"initprune-ws-{Guid.NewGuid():N}"));
        CliRunner.AssertOneLineError(r);
    }
}
