using InitPrune.Engine;
using InitPrune.Tests.Data;
using InitPrune.Tests.Theory.MeanField;
using InitPrune.Theory;

namespace InitPrune.Tests.Theory.Probabilistic;

/// <summary>The seed 003 commands' library entry points against closed forms, exact invariants and the paper's Tables 2 and 3.</summary>
public class ProbabilisticReportsTests
{
    static QkBoundsRequest Request(QkTheorems theorems) =>
        new([10, 1024, 1024, 1024, 10], 0.3, 1, 0.1, [1], [2.5], [0.001], 512, 3, 10, 32, 32, 3, 0.1, 0.05, theorems);

    [Fact]
    public void QkBoundsEvaluatesTheTheoremsAskedFor()
    {
        var all = ProbabilisticReports.QkBounds(Request(QkTheorems.All));
        Assert.Equal([10, 1024, 1024, 1024, 10], all.Widths);
        Assert.Equal((0.3, 1.0, 0.1), (all.Alpha, all.Epsilon, all.Delta));
        Assert.Equal(1024, all.Theorem1!.D); // d = the smallest hidden width
        Assert.Equal(1, all.Theorem1.C0 / 1.218, 12); // default c0 = 1.218·K (Table 2's largest for K = 1)
        Assert.Equal([(long)Math.Floor(Math.Pow(1024 * 1024, 0.7)), (long)Math.Floor(Math.Pow(1024 * 1024, 0.7))], all.Theorem1.PrunedPerLayer.Take(2));
        Assert.True(all.Theorem2!.AlphaAdmissible);
        double alphaMax = 2 - (Math.Log(513) + Math.Log(Math.Log(512))) / Math.Log(512); // Theorem 3, d = 512 channels
        Assert.Equal(alphaMax, all.Theorem3!.AlphaMax, 12);
        Assert.Equal(0.7062, all.Theorem3.AlphaMax, 4e-4);
        Assert.Equal(4, all.Theorem3.Depth); // l from the widths

        var one = ProbabilisticReports.QkBounds(Request(QkTheorems.Magnitude));
        Assert.NotNull(one.Theorem1);
        Assert.Null(one.Theorem2);
        Assert.Null(one.Theorem3);
        var three = ProbabilisticReports.QkBounds(Request(QkTheorems.Convolution));
        Assert.Null(three.Theorem1);
        Assert.Equal(alphaMax, three.Theorem3!.AlphaMax, 12);
        Assert.Throws<InitPruneException>(() => ProbabilisticReports.QkBounds(Request(QkTheorems.Magnitude) with { Alpha = 1.5 }));
    }

    [Fact]
    public void Table2PairsEveryRowWithThePaperAndAgreesWithinSamplingError()
    {
        const int trials = 60;
        var heard = new List<(int, int)>();
        var report = ProbabilisticReports.Table2([64, 32, 32], trials, seed: 5, (a, b) => heard.Add((a, b)));
        Assert.Equal([(32, 32), (32, 64), (64, 64)], heard); // distinct sizes, every pair n1 ≤ n2
        Assert.Equal((trials, 5L), (report.Trials, report.Seed));
        Assert.Equal(6, report.Rows.Count);
        foreach (var pair in report.Rows.Chunk(2))
        {
            var (one, three) = (pair[0].Ours, pair[1].Ours);
            Assert.Equal((1.0, Math.Sqrt(3)), (one.K, three.K));
            Assert.Equal(Math.Sqrt(3) * one.Mean, three.Mean, 12); // the same draws scaled by K: ‖B‖ is linear in K
        }
        foreach (var row in report.Rows)
        {
            var paper = Assert.IsType<PaperTable2Row>(row.Paper);
            Assert.Equal((row.Ours.N1, row.Ours.N2), (paper.N1, paper.N2));
            Assert.Equal(paper.K, row.Ours.K, 12);
            double se = Math.Sqrt(row.Ours.Std * row.Ours.Std / trials + paper.Std * paper.Std / 1000); // ours and the paper's (1000 draws)
            Assert.InRange(row.Ours.Mean, paper.Mean - 5 * se, paper.Mean + 5 * se);
            Assert.Equal(row.Ours.Mean / paper.Mean - 1, row.MeanRelativeDifference!.Value, 12);
        }
        Assert.Null(new Table2Comparison(report.Rows[0].Ours with { N1 = 33 }, null).MeanRelativeDifference);

        using var dir = new TempDir();
        ProbabilisticReports.PlotTable2(dir.File("table2.png"), report);
        MeanFieldReportsTests.AssertPng(dir.File("table2.png"));
    }

    [Fact]
    public void Table3HasTheClosedFormLatalaTermsAndThePapersNorms()
    {
        var heard = new List<string>();
        var report = ProbabilisticReports.Table3([32], [0.5], 20, seed: 3, row => heard.Add(ProbabilisticReports.DistributionName(row.Distribution, row.Alpha)));
        Assert.Equal(["U[−√(3/d), √(3/d)]", "N(0, 1/d)", "N(0, 3/d)", "N(0, 1/d) pruned, α = 0.5"], heard);
        Assert.Equal(4, report.Rows.Count);
        Assert.Equal([1.888, 1.905, 3.295, 1.759], report.Rows.Select(r => r.Paper!.MeanNorm)); // the paper's E‖A‖₂ at d = 32
        foreach (var row in report.Rows)
        {
            var ours = row.Ours;
            Assert.Equal(ours.MeanNorm / ours.Empirical.Sum, ours.C, 12);
            Assert.Equal(ours.MeanNorm / ours.Exact.Sum, ours.CExact, 12);
            Assert.InRange(ours.MeanNorm, 0.95 * row.Paper!.MeanNorm - 5 * ours.MeanNormStdErr, 1.05 * row.Paper.MeanNorm + 5 * ours.MeanNormStdErr);
            Assert.Equal(ours.MeanNorm / row.Paper.MeanNorm - 1, row.MeanNormRelativeDifference!.Value, 12);
        }
        // N(0, 1/d): E a² = 1/d, E a⁴ = 3/d², so the exact terms are 1, 1 and 3^{1/4}.
        var normal = report.Rows[1].Ours.Exact;
        Assert.Equal(1, normal.Rows, 12);
        Assert.Equal(1, normal.Columns, 12);
        Assert.Equal(Math.Pow(3, 0.25), normal.Fourth, 12);

        using var dir = new TempDir();
        ProbabilisticReports.PlotTable3(dir.File("table3.png"), report);
        MeanFieldReportsTests.AssertPng(dir.File("table3.png"));
    }

    [Fact]
    public void ConvNormOfABoxKernelIsItsSumAndFftMatchesTheDenseMatrix()
    {
        // One channel, non-negative kernel: the DFT's largest modulus is at frequency 0, the sum of the entries.
        var box = ProbabilisticReports.ConvNorm(5, 3, 1, 1, [1, 1, 1, 1, 1, 1, 1, 1, 1], dense: true, seed: 0);
        Assert.Equal((5, 3, 1, 1), (box.Size, box.KernelSize, box.InChannels, box.OutChannels));
        Assert.Equal(9, box.FftNorm, 10);
        Assert.Equal(9, box.DenseNorm!.Value, 10);
        Assert.True(box.MaxConvError < 1e-12);

        var random = ProbabilisticReports.ConvNorm(4, 2, 2, 3, null, dense: true, seed: 7);
        Assert.Equal(2, random.KernelSize);
        Assert.Equal(random.DenseNorm!.Value, random.FftNorm, 10); // Lemma 7 against the SVD of Eqs. 7–9
        Assert.Equal(Math.Abs(random.DenseNorm.Value - random.FftNorm), random.AbsDifference!.Value, 15);
        Assert.True(random.MaxConvError < 1e-10);
        Assert.Equal(random.FftNorm, ProbabilisticReports.ConvNorm(4, 2, 2, 3, null, dense: true, seed: 7).FftNorm); // seeded

        var fftOnly = ProbabilisticReports.ConvNorm(64, 3, 1, 1, null, dense: false, seed: 0);
        Assert.Null(fftOnly.DenseNorm);
        Assert.Null(fftOnly.AbsDifference);
        Assert.Null(fftOnly.MaxConvError);

        Assert.Throws<InitPruneException>(() => ProbabilisticReports.ConvNorm(65, 3, 1, 1, null, dense: true, seed: 0)); // 65²·1 > 4096: too large for an SVD
        Assert.Throws<InitPruneException>(() => ProbabilisticReports.ConvNorm(5, 3, 1, 1, [1, 2, 3], dense: false, seed: 0)); // not square
        Assert.Throws<InitPruneException>(() => ProbabilisticReports.ConvNorm(0, 3, 1, 1, null, dense: false, seed: 0));
    }
}
