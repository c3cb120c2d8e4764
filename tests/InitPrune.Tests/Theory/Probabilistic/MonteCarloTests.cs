using InitPrune.Engine;
using InitPrune.Theory;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.Probabilistic;

public class MonteCarloTests
{
    [Fact]
    public void Table2Delta0IsTheClosedFormOfTheConfidence()
    {
        // δ0 solves q = 1 − 2e^{−4δ0 n}: every δ0 the paper prints, to its 3 decimals.
        foreach (var row in Seed003Tables.Table2)
            for (int i = 0; i < 4; i++)
                Assert.Equal(row.Delta0[i], UniformNormStudy.Delta0(UniformNormStudy.PaperConfidences[i], Math.Max(row.N1, row.N2)), 6e-4);
    }

    [Fact]
    public void Table2MeanNormAgreesWithThePaperWithinSamplingError()
    {
        var rows = UniformNormStudy.Rows(32, 32, [1, Math.Sqrt(3)], trials: 300, seed: 1);
        var paper = Seed003Tables.Table2[0];
        // Our standard error and the paper's (N = 1000), combined; 5 standard errors.
        double se = Math.Sqrt(rows[0].Std * rows[0].Std / 300 + paper.Std * paper.Std / 1000);
        Assert.InRange(rows[0].Mean, paper.Mean - 5 * se, paper.Mean + 5 * se);
        Assert.InRange(rows[0].Std, 0.7 * paper.Std, 1.3 * paper.Std);
        // Same draws for both K: ‖B‖ is linear in K, exactly.
        Assert.Equal(Math.Sqrt(3) * rows[0].Mean, rows[1].Mean, 12);
        Assert.Equal(Math.Sqrt(3) * rows[0].C0[1], rows[1].C0[1], 12);
        Assert.True(rows[0].C0.Zip(rows[0].C0.Skip(1)).All(p => p.First <= p.Second));
    }

    [Fact]
    public void UniformNormApproachesTheBaiYinEdge()
    {
        // Entries of variance 1/(3n): ‖B‖₂ → (√n1 + √n2)/√(3n) as the sizes grow (Bai–Yin); 128×512 is within 2% of it.
        var row = UniformNormStudy.Rows(128, 512, [1], trials: 20, seed: 2)[0];
        double edge = (Math.Sqrt(128) + Math.Sqrt(512)) / Math.Sqrt(3 * 512);
        Assert.InRange(row.Mean / edge, 0.97, 1.0);
    }

    [Fact]
    public void LatalaTermsOfADeterministicMatrixByHand()
    {
        using var a = tensor(new double[,] { { 1, 2 }, { 3, 4 } });
        using var sq = a.square();
        using var q4 = sq.square();
        var t = LatalaTerms.FromMoments(sq, q4);
        Assert.Equal(5, t.Rows, 12); // √(9 + 16)
        Assert.Equal(Math.Sqrt(20), t.Columns, 12); // √(4 + 16)
        Assert.Equal(Math.Pow(1 + 16 + 81 + 256, 0.25), t.Fourth, 12);
    }

    [Fact]
    public void Table3ExactTermsAreThePapersLimits()
    {
        var u = LatalaTerms.Homogeneous(64, LatalaStudy.Moments(64, Lemma4Distribution.Uniform, null).M2, LatalaStudy.Moments(64, Lemma4Distribution.Uniform, null).M4);
        Assert.Equal(1, u.Rows, 12);
        Assert.Equal(1.159, u.Fourth, 3e-3); // (9/5)^{1/4}, the paper's 1.159
        var (m2, m4) = LatalaStudy.Moments(64, Lemma4Distribution.Normal3, null);
        Assert.Equal(Math.Sqrt(3), LatalaTerms.Homogeneous(64, m2, m4).Rows, 12);
        Assert.Equal(2.28, LatalaTerms.Homogeneous(64, m2, m4).Fourth, 1e-3); // 27^{1/4}
    }

    [Fact]
    public void PrunedSamplesHaveTheClosedFormKeptFraction()
    {
        // ⌊32^{1.99}⌋ = 989 zeroings with replacement keep each entry with probability (1 − 1/1024)^989 ≈ 0.381.
        using var gen = new Generator(7);
        using var a = LatalaStudy.Sample(32, Lemma4Distribution.PrunedNormal1, 0.01, 200, gen);
        using var nz = a.ne(0).to_type(ScalarType.Float64).mean();
        double kept = Math.Pow(1 - 1.0 / 1024, 989), se = Math.Sqrt(kept * (1 - kept) / (200 * 1024));
        Assert.Equal(989, LatalaStudy.Zeroed(32, 0.01));
        Assert.InRange(nz.item<double>(), kept - 5 * se, kept + 5 * se);
    }

    [Theory]
    [InlineData(Lemma4Distribution.Uniform, null, 0)]
    [InlineData(Lemma4Distribution.PrunedNormal1, 0.5, 23)]
    public void Table3MeanNormAgreesWithThePaperWithinSamplingError(Lemma4Distribution dist, double? alpha, int paperIndex)
    {
        var row = LatalaStudy.Row(32, dist, alpha, trials: 200, seed: 3);
        var paper = Seed003Tables.Table3[paperIndex];
        Assert.Equal(32, paper.D);
        Assert.Equal(dist, paper.Distribution);
        // The paper gives no spread; take ours for both (its N = 500): 5 combined standard errors.
        double se = row.MeanNormStdErr * Math.Sqrt(1 + 200.0 / 500);
        Assert.InRange(row.MeanNorm, paper.MeanNorm - 5 * se, paper.MeanNorm + 5 * se);
        Assert.InRange(row.CExact, 0.5, 0.65);
        Assert.Equal(row.MeanNorm / row.Empirical.Sum, row.C, 12);
    }

    [Fact]
    public void BadStudySettingsAreUserErrors()
    {
        Assert.Throws<InitPruneException>(() => UniformNormStudy.Norms(0, 4, 1, 10, 0));
        Assert.Throws<InitPruneException>(() => LatalaStudy.Row(8, Lemma4Distribution.PrunedNormal1, 2.5, 10, 0));
        Assert.Throws<InitPruneException>(() => UniformNormStudy.Rows(8, 8, [1], 10, 0, [1.0]));
    }
}
