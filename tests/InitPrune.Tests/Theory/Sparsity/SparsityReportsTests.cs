using InitPrune.Engine;
using InitPrune.Tests.Data;
using InitPrune.Tests.Theory.MeanField;
using InitPrune.Theory;

namespace InitPrune.Tests.Theory.Sparsity;

/// <summary>The sparsity commands' library entry points against seed 001/002's closed forms.</summary>
public class SparsityReportsTests
{
    static readonly CriticalSparsitySpec Small = new(Width: 10, Samples: 2, BatchSize: 8);

    [Fact]
    public void CriticalSparsityWithAGivenChiHasTheoremOnesBounds()
    {
        var report = SparsityReports.CriticalSparsity(Small, [5, 8], chi: 0.2);
        double kappa = Math.Log(5) / 8; // κ = |log χ|/8
        Assert.Equal(0.2, report.Chi);
        Assert.Equal(kappa, report.Kappa, 12);
        Assert.Equal([5, 8], report.Rows.Select(r => r.Layers));
        foreach (var row in report.Rows)
        {
            double l = row.Layers, n2 = 100; // E[s_cr] ≤ (1/L)(1 + log(κ L N²)/κ)
            Assert.Equal((1 + Math.Log10(kappa * l * n2) / kappa) / l, row.SbpBoundLog10!.Value, 12);
            Assert.Equal((1 + Math.Log(kappa * l * n2) / kappa) / l, row.SbpBoundLn!.Value, 12);
            Assert.Equal(2, row.Samples.Count);
            Assert.InRange(row.Mean, 0, 1);
        }
        Assert.Equal(2.191, report.Rows[0].SbpBoundLog10!.Value, 3); // the CLI test's hand computation
        Assert.Equal(["s-cr.json", "s-cr.png"], report.Files);

        using var dir = new TempDir();
        SparsityReports.PlotCriticalSparsity(dir.File("s-cr.png"), report);
        MeanFieldReportsTests.AssertPng(dir.File("s-cr.png"));
    }

    [Fact]
    public void CriticalSparsityTakesChiFromTheMeanFieldMap()
    {
        // ReLU, σw = 1: χ = σw²/2 = 1/2 whatever σb.
        var report = SparsityReports.CriticalSparsity(Small with { Activation = "relu", SigmaW = 1, SigmaB = 1 }, [3]);
        Assert.Equal(0.5, report.Chi, 9);
        Assert.Equal(Math.Log(2) / 8, report.Kappa, 9);
        Assert.Throws<InitPruneException>(() => SparsityReports.CriticalSparsity(Small, [1], 0.2));
    }

    [Fact]
    public void RescalingHasTheRandomFactorAndTheEdgesOfStability()
    {
        var report = SparsityReports.Rescaling([4, 100], [0, 0.5, 0.75]);
        Assert.Equal(6, report.Rows.Count);
        foreach (var row in report.Rows)
        {
            Assert.Equal(Math.Round((1 - row.Sparsity) * row.Width * row.Width), row.Kept);
            Assert.Equal(1 / Math.Sqrt(1 - row.ActualSparsity), row.Random, 12); // (1 − s)^(−1/2)
        }
        var four = report.Rows.Where(r => r.Width == 4).ToList();
        Assert.Equal(Math.Sqrt(2), four[1].Random, 12); // 8 of 16 kept
        Assert.Equal(2, four[2].Random, 12); // 4 of 16 kept
        Assert.Equal(1, four[0].MagnitudeExact!.Value, 12); // nothing pruned: no rescaling
        Assert.All(four.Skip(1), r => Assert.True(r.MagnitudeExact < r.Random)); // magnitude keeps the largest weights

        Assert.Equal([4, 100], report.Edges.Select(e => e.Width));
        var e100 = report.Edges[1]; // 1 − log(n)^k/n: k = 5 random, 4 magnitude
        Assert.Equal(1 - Math.Pow(2, 5) / 100, e100.RandomLog10, 12);
        Assert.Equal(1 - Math.Pow(2, 4) / 100, e100.MagnitudeLog10, 12);
        Assert.Equal(1 - Math.Pow(Math.Log(100), 5) / 100, e100.RandomLn, 12);
        Assert.Equal(1 - Math.Pow(Math.Log(100), 4) / 100, e100.MagnitudeLn, 12);
        Assert.Equal(["tn.json", "tn.png"], report.Files);

        using var dir = new TempDir();
        SparsityReports.PlotRescaling(dir.File("tn.png"), report);
        MeanFieldReportsTests.AssertPng(dir.File("tn.png"));
    }

    [Fact]
    public void KeepProbabilityIsTheRatioOfVariances()
    {
        var given = SparsityReports.KeepProbability("tanh", 0.2, [2, 4], sigmaWEoc: 1);
        Assert.True(given.SigmaWEocGiven);
        Assert.Equal(1, given.SigmaWEoc);
        Assert.Equal([0.25, 0.0625], given.Layers.Select(l => l.KeepProbability));
        Assert.Equal([0.75, 0.9375], given.Layers.Select(l => l.Sparsity));
        Assert.Equal([1, 2], given.Layers.Select(l => l.Layer));
        Assert.All(given.Layers, l => Assert.Equal(1, l.EffectiveSigmaW, 12)); // σw·√p = σw,EOC

        var solved = SparsityReports.KeepProbability("relu", 0, [2]); // ReLU's EOC at σb = 0 is √2
        Assert.False(solved.SigmaWEocGiven);
        Assert.Equal(Math.Sqrt(2), solved.SigmaWEoc, 10);
        Assert.Equal(0.5, solved.Layers[0].KeepProbability, 10);
        Assert.Equal(["keep-prob.json"], solved.Files);
        Assert.Throws<InitPruneException>(() => SparsityReports.KeepProbability("tanh", 0.2, [0.5], sigmaWEoc: 1));
    }
}
