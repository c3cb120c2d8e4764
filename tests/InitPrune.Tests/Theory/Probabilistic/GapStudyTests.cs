using InitPrune.Engine;
using InitPrune.Pruning;
using InitPrune.Tests.Cli;
using InitPrune.Theory;
using MathNet.Numerics.LinearAlgebra;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.Probabilistic;

public class GapStudyTests
{
    static Tensor FromArray(double[,] a) => tensor(a, dtype: ScalarType.Float64);

    static double[,] ToArray(Tensor t)
    {
        var v = t.contiguous().data<double>().ToArray();
        int m = (int)t.shape[0], n = (int)t.shape[1];
        var a = new double[m, n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                a[i, j] = v[i * n + j];
        return a;
    }

    static double Svd2(double[,] a) => Matrix<double>.Build.DenseOfArray(a).L2Norm();

    [Fact]
    public void OneLayerCertificateIsTheClosedFormAndTheAscentReachesIt()
    {
        // l = 1: f(x) − F(x) = (W_f − W_F) x, so sup over the ball of radius r is ‖W_f − W_F‖₂ · r exactly.
        var rng = new Random(7);
        var w = new double[6, 9];
        var wp = new double[6, 9];
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 9; j++)
            {
                w[i, j] = rng.NextDouble() * 2 - 1;
                wp[i, j] = rng.NextDouble() < 0.4 ? 0 : w[i, j];
            }
        var diff = new double[6, 9];
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 9; j++)
                diff[i, j] = wp[i, j] - w[i, j];
        const double r = 2.5;
        double closed = Svd2(diff) * r;
        using var pair = new GapPair([FromArray(w)], [FromArray(wp)], GapActivation.Identity);
        var cert = pair.Certificate(r);
        Assert.Equal(closed, cert.Bound, 1e-10);
        Assert.Equal(closed, cert.PrunedAfter, 1e-10);
        Assert.Equal(closed, cert.TargetAfter, 1e-10);
        using var gen = new Generator(3);
        var lower = new GapSearch(Samples: 16, Starts: 4, Steps: 200).Lower(pair, GapInputSet.Ball, r, gen);
        Assert.True(lower.Value <= closed * (1 + 1e-12));
        Assert.True(lower.Value >= closed * (1 - 1e-6), $"ascent reached {lower.Value}, closed form {closed}");
        Assert.True(lower.Sampled < lower.Value, "16 random samples should not already hit the top singular direction");
        var x = Vector<double>.Build.DenseOfArray(lower.Argmax);
        Assert.True(x.L2Norm() <= r * (1 + 1e-12));
        Assert.Equal(lower.Value, (Matrix<double>.Build.DenseOfArray(diff) * x).L2Norm(), 1e-9);
    }

    [Fact]
    public void CertificateRecurrenceByHand()
    {
        // Three layers, only the middle one pruned: both orders give ‖W3‖ ‖Δ2‖ ‖W1‖ r with the respective norms.
        var c = GapCertificate.From([2, 3, 5], [2, 1.5, 5], [0, 0.5, 0], 1.5);
        Assert.Equal(5 * 0.5 * 2 * 1.5, c.PrunedAfter, 12);
        Assert.Equal(5 * 0.5 * 2 * 1.5, c.TargetAfter, 12);
        // Two pruned layers: Σ_k Π_{j>k} after_j Δ_k Π_{j<k} before_j r.
        var d = GapCertificate.From([2, 3, 4, 5], [2, 1, 2, 5], [0, 1, 3, 0], 1);
        Assert.Equal(2 * 5 * 1 * 2 + 5 * 3 * 2 * 3, d.PrunedAfter, 12); // after = pruned norms, before = target norms
        Assert.Equal(4 * 5 * 1 * 2 + 5 * 3 * 2 * 1, d.TargetAfter, 12);
        Assert.Equal(Math.Min(d.PrunedAfter, d.TargetAfter), d.Bound);
        Assert.Throws<InitPruneException>(() => GapCertificate.From([1], [1, 2], [0], 1));
    }

    [Fact]
    public void CertificateIsNeverBelowTheLowerEstimateOnRandomInstances()
    {
        var rng = new Random(12);
        for (int trial = 0; trial < 40; trial++)
        {
            int depth = rng.Next(1, 5);
            var widths = Enumerable.Range(0, depth + 1).Select(_ => rng.Next(1, 7)).ToArray();
            var act = (GapActivation)rng.Next(3);
            var law = (GapLaw)rng.Next(3);
            using var gen = new Generator((ulong)trial);
            var t = new List<Tensor>();
            var p = new List<Tensor>();
            for (int k = 1; k <= depth; k++)
            {
                var w = GapStudy.Draw(law, 1.5, [widths[k], widths[k - 1]], gen);
                t.Add(w);
                p.Add(rng.Next(2) == 0 ? GapStudy.PruneRandom(w, 0.2, gen).Pruned : GapStudy.PruneMagnitude(w, 0.3).Pruned);
            }
            var set = (GapInputSet)rng.Next(2);
            double radius = 0.5 + rng.NextDouble() * 2;
            using var pair = new GapPair(t, p, act);
            double r = set == GapInputSet.Ball ? radius : Math.Sqrt(pair.InputSize);
            var cert = pair.Certificate(r).Bound;
            var lower = new GapSearch(256, 4, 40).Lower(pair, set, radius, gen).Value;
            Assert.True(lower <= cert * (1 + 1e-9) + 1e-12, $"trial {trial}: lower {lower} > certificate {cert}");
        }
    }

    [Fact]
    public void CnnCertificateIsNeverBelowTheLowerEstimateAndTheConvolutionIsTheDenseMatrix()
    {
        for (int trial = 0; trial < 6; trial++)
        {
            var x = new GapStudyRequest(3, [3], [0.5], [3], 1, 1, InputDim: 2, Outputs: 2, Spatial: 4, KernelSize: 2, K: 3);
            using var gen = new Generator((ulong)(100 + trial));
            using var pair = GapStudy.Cnn(x, GapLaw.Normal, 3, 0.5, 3, gen, out var counts);
            Assert.Equal(Seed003Method.KernelPruneCount(9, 0.5), counts.Single()); // ⌊d^{2−α}⌋ = ⌊3^{1.5}⌋ = 5
            Assert.Equal(5, counts.Single());
            var cert = pair.Certificate(Math.Sqrt(pair.InputSize)).Bound;
            var lower = new GapSearch(256, 4, 30).Lower(pair, GapInputSet.Cube, 1, gen).Value;
            Assert.True(lower <= cert * (1 + 1e-9), $"trial {trial}: lower {lower} > certificate {cert}");
        }
        // With identity activations the network is the product of its matrices: conv layers by Eqs. (7)–(9).
        var req = new GapStudyRequest(3, [3], [0.5], [3], 1, 1, Activation: GapActivation.Identity, InputDim: 2, Outputs: 2, Spatial: 4, KernelSize: 2);
        using var g2 = new Generator(5);
        using var net = GapStudy.Cnn(req, GapLaw.Uniform, 3, 0.5, 3, g2, out _);
        Tensor Dense(IReadOnlyList<Tensor> ws) => ws[2].matmul(CircularConvolution.Matrix(ws[1], 4)).matmul(CircularConvolution.Matrix(ws[0], 4));
        using var input = rand([5, net.InputSize], dtype: ScalarType.Float64, generator: g2);
        using var expected = input.matmul(Dense(net.Pruned).sub(Dense(net.Target)).t());
        using var got = net.Difference(input);
        Assert.True(got.allclose(expected, rtol: 1e-10, atol: 1e-14));
    }

    [Theory]
    [InlineData(16, 0.3)]
    [InlineData(64, 0.6)]
    [InlineData(100, 0.5)]
    public void PruningCountsAreFloorOfDToTheOneMinusAlpha(int d, double alpha)
    {
        using var gen = new Generator(9);
        using var w = GapStudy.Draw(GapLaw.Uniform, 1, [d, d], gen);
        long expected = (long)Math.Floor(Math.Pow((double)d * d, 1 - alpha) + 1e-9);
        var (mag, mc) = GapStudy.PruneMagnitude(w, alpha);
        Assert.Equal(expected, mc);
        var wv = w.data<double>().ToArray();
        var mv = mag.data<double>().ToArray();
        var smallest = wv.Select((v, i) => (Abs: Math.Abs(v), I: i)).OrderBy(p => p.Abs).Take((int)expected).Select(p => p.I).ToHashSet();
        for (int i = 0; i < wv.Length; i++) Assert.Equal(smallest.Contains(i) ? 0 : wv[i], mv[i]);
        var (rnd, rc) = GapStudy.PruneRandom(w, alpha, gen);
        Assert.Equal(expected, rc);
        var rv = rnd.data<double>().ToArray();
        int zeros = rv.Count(v => v == 0);
        Assert.InRange(zeros, 1, (int)expected); // with replacement: at most that many distinct entries
        for (int i = 0; i < wv.Length; i++) Assert.True(rv[i] == 0 || rv[i] == wv[i]);
        mag.Dispose();
        rnd.Dispose();
    }

    [Fact]
    public void KernelPruningZeroesWholeKernels()
    {
        using var gen = new Generator(4);
        using var w = GapStudy.Draw(GapLaw.Normal, 1, [8, 8, 3, 3], gen);
        var (p, count) = GapStudy.PruneKernels(w, 0.4, gen);
        Assert.Equal((long)Math.Floor(Math.Pow(8, 2 - 0.4)), count);
        using var perKernel = p.abs().sum([2, 3]);
        using var zero = perKernel.eq(0);
        long zeroKernels = zero.count_nonzero().item<long>();
        using var zeroEntries = p.eq(0);
        Assert.Equal(zeroKernels * 9, zeroEntries.count_nonzero().item<long>());
        Assert.InRange(zeroKernels, 1, count);
        p.Dispose();
    }

    [Fact]
    public void StudyRowsCarryTheTheoremsAndConsistentProbabilities()
    {
        var report = GapStudy.Run(new GapStudyRequest(1, [16, 32], [0.6], [3], 3, 0.3, Search: new GapSearch(64, 2, 10)));
        Assert.Equal(2, report.Rows.Count);
        foreach (var row in report.Rows)
        {
            Assert.All(row.Lower.Zip(row.Certificate), p => Assert.True(p.First <= p.Second));
            Assert.True(row.ProbabilityCertificate <= row.ProbabilityLower);
            var t1 = MagnitudePruningBound.Evaluate(new([8, row.D, row.D, 4], 0.6, 0.3, 0.1, [1]));
            Assert.Equal(t1.GapBound, row.TheoremGap, 12);
            Assert.Equal(t1.SuccessProbability, row.TheoremProbability, 12);
            Assert.Equal(row.TheoremProbability is <= 0 or > 1, row.Vacuous);
            Assert.Equal(!row.Vacuous && row.TheoremGap <= 0.3 ? row.TheoremProbability : 0, row.GuaranteedProbability);
            Assert.Equal([Seed003Method.PruneCount((long)row.D * row.D, 0.6)], row.PrunedPerLayer);
        }
        // d = 16 and 32: both factors of p0 are negative (their products, 1.13 and 0.0821, would read as probabilities).
        Assert.All(report.Rows, row => Assert.True(row.Vacuous && row.TheoremProbability <= 0));
        Assert.Equal(0, report.Rows[1].GuaranteedProbability);
    }

    [Fact]
    public void BadRequestsAreUserErrors()
    {
        Assert.Throws<InitPruneException>(() => GapStudy.Run(new GapStudyRequest(1, [16], [0.5], [3], 1, 0.1, Law: GapLaw.Normal)));
        Assert.Throws<InitPruneException>(() => GapStudy.Run(new GapStudyRequest(2, [16], [0.5], [2], 1, 0.1)));
        Assert.Throws<InitPruneException>(() => GapStudy.Run(new GapStudyRequest(2, [4], [0.5], [3], 1, 0.1, InputDim: 8)));
        Assert.Throws<InitPruneException>(() => GapStudy.Run(new GapStudyRequest(2, [16], [1.5], [3], 1, 0.1)));
    }

    static string Out() => Path.Combine(Path.GetTempPath(), $"initprune-gap-{Guid.NewGuid():N}");

    [Fact]
    public void CliWritesJsonAndPlot()
    {
        var dir = Out();
        var r = CliRunner.Run("theory", "gap", "--theorem", "2", "--law", "rademacher", "--widths", "8,16", "--alphas", "0.5", "--depths", "3",
            "--draws", "2", "--samples", "64", "--steps", "5", "--json", "--out", dir);
        Assert.Equal(0, r.ExitCode);
        var j = r.Json;
        Assert.Equal(2, j.GetProperty("theorem").GetInt32());
        Assert.Equal("rademacher", j.GetProperty("law").GetString());
        var rows = j.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(16, rows[1].GetProperty("d").GetInt32());
        Assert.Equal(2, rows[1].GetProperty("lower").GetArrayLength());
        Assert.True(rows[1].GetProperty("mean_certificate").GetDouble() >= rows[1].GetProperty("mean_lower").GetDouble());
        Assert.True(rows[1].TryGetProperty("guaranteed_probability", out _));
        Assert.True(File.Exists(Path.Combine(dir, "gap.json")));
        Assert.True(File.Exists(Path.Combine(dir, "gap-theorem2.png")));
        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData("--theorem", "4")]
    [InlineData("--depths", "2")]
    [InlineData("--law", "cauchy")]
    public void CliBadInputIsOneLine(string option, string value)
    {
        var r = CliRunner.Run("theory", "gap", option, value, "--draws", "1", "--out", Out());
        CliRunner.AssertOneLineError(r);
    }
}
