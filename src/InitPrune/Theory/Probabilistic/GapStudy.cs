using System.Diagnostics;
using InitPrune.Engine;
using InitPrune.Pruning;
using InitPrune.Reporting;
using MathNet.Numerics.Statistics;
using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>The law of the target's entries: U[−K s, K s], N(0, K² s²) or ±K s with s = 1/√max(d_k, d_{k−1}) (FCN) or 1/(p√d) (CNN).</summary>
public enum GapLaw
{
    Uniform,
    Normal,
    Rademacher,
}

/// <summary>
/// The seed 003 gap study (<c>initprune theory gap</c>): for each (d, α, l), <paramref name="Draws"/> target networks and masks; per draw a
/// lower estimate and an upper certificate of sup ‖f − F‖; Theorem 1 magnitude-prunes ⌊D_k^{1−α}⌋ entries of an FCN with uniform weights,
/// Theorem 2 randomly prunes ⌊D_k^{1−α}⌋ entries with replacement (any <paramref name="Law"/>), Theorem 3 randomly prunes ⌊d^{2−α}⌋ kernels
/// with replacement of a circular CNN, always in layers 1 &lt; k &lt; l (<see cref="Seed003Method"/>'s counts).
/// </summary>
/// <param name="Widths">Hidden widths d (FCN) or channels d (CNN) to sweep.</param>
/// <param name="InputDim">d_0 (FCN) or input channels d_0 (CNN); with <paramref name="Outputs"/> d_l, both ≤ every d (assumption (ii)).</param>
/// <param name="Spatial">CNN: side p of the maps (input p_0 = p).</param>
/// <param name="Radius">Ball radius r (Theorems 1, 2); the theorems' gap bound is scaled by r (their proofs bound ‖y_k‖ by r times the unit-ball bound).</param>
public sealed record GapStudyRequest(int Theorem, int[] Widths, double[] Alphas, int[] Depths, int Draws, double Epsilon,
    GapLaw? Law = null, double K = 1, GapActivation Activation = GapActivation.Relu, GapInputSet? InputSet = null, double Radius = 1,
    int InputDim = 8, int Outputs = 4, int Spatial = 8, int KernelSize = 3, GapSearch? Search = null, long Seed = 0,
    double Beta1 = 0.1, double? Beta2 = null);

/// <summary>
/// One (d, α, l) setting. Lower[i] ≤ sup ‖f − F‖ ≤ Certificate[i] for draw i, so the true P(gap ≤ ε) lies in
/// [<see cref="ProbabilityCertificate"/>, <see cref="ProbabilityLower"/>]. The theorem guarantees gap ≤ <see cref="TheoremGap"/> with probability
/// ≥ <see cref="TheoremProbability"/>, so P(gap ≤ ε) ≥ <see cref="GuaranteedProbability"/> = that probability when TheoremGap ≤ ε (else 0);
/// <see cref="Vacuous"/> when TheoremProbability ≤ 0 or &gt; 1 (outside the range where the proof's product of factors is a probability). Looseness = TheoremGap / the empirical quantile of the lower estimates (or certificates)
/// at level <see cref="QuantileLevel"/> = TheoremProbability (the maximum, level 1, when vacuous): how many times larger the theorem's ε is
/// than what the draws need at the theorem's own probability.
/// </summary>
public sealed record GapRow(int Theorem, int D, double Alpha, int Depth, int Draws, long[] PrunedPerLayer, double[] Lower, double[] Certificate,
    double MeanLower, double MaxLower, double MeanCertificate, double MaxCertificate, double MeanCertificateOverLower,
    double ProbabilityLower, double ProbabilityCertificate, double TheoremGap, double TheoremProbability, double GuaranteedProbability, bool Vacuous,
    bool TheoremConditionsHold, double QuantileLevel, double LowerQuantile, double CertificateQuantile, double LoosenessLower, double LoosenessCertificate);

public sealed record GapReport(int Theorem, string Method, string Law, string Activation, string InputSet, double Radius, double Epsilon, int Draws,
    GapSearch Search, long Seed, IReadOnlyList<GapRow> Rows, double Seconds);

/// <summary>Seed 003 §3–5 by experiment: the gap between a pruned network and its target, beside Theorems 1–3.</summary>
public static class GapStudy
{
    public static GapReport Run(GapStudyRequest x, Action<GapRow>? rowDone = null)
    {
        var sw = Stopwatch.StartNew();
        var (law, set) = Validate(x);
        var search = x.Search ?? new GapSearch();
        var rows = new List<GapRow>();
        // The tensors are tiny: libtorch's intra-op threads only add synchronization (10× slower on a loaded 2-core machine).
        int threads = get_num_threads();
        set_num_threads(1);
        try
        {
            foreach (int l in x.Depths)
                foreach (double a in x.Alphas)
                    foreach (int d in x.Widths)
                    {
                        var row = Row(x, law, set, search, d, a, l);
                        rowDone?.Invoke(row);
                        rows.Add(row);
                    }
        }
        finally
        {
            set_num_threads(threads);
        }
        return new GapReport(x.Theorem, MethodName(x.Theorem), law.ToString().ToLowerInvariant(), x.Activation.ToString().ToLowerInvariant(),
            set.ToString().ToLowerInvariant(), set == GapInputSet.Ball ? x.Radius : 1, x.Epsilon, x.Draws, search, x.Seed, rows, sw.Elapsed.TotalSeconds);
    }

    public static string MethodName(int theorem) => theorem switch
    {
        1 => "seed003-magnitude",
        2 => "seed003-random",
        _ => "seed003-random (kernels)",
    };

    static (GapLaw Law, GapInputSet Set) Validate(GapStudyRequest x)
    {
        BoundInputs.Require(x.Theorem is 1 or 2 or 3, $"unknown theorem {x.Theorem}: use 1, 2 or 3");
        var law = x.Law ?? (x.Theorem == 1 ? GapLaw.Uniform : GapLaw.Normal);
        BoundInputs.Require(x.Theorem != 1 || law == GapLaw.Uniform, $"Theorem 1 assumes uniform weights (assumption iii), not {law.ToString().ToLowerInvariant()}: use --theorem 2 for other laws");
        var set = x.InputSet ?? (x.Theorem == 3 ? GapInputSet.Cube : GapInputSet.Ball);
        BoundInputs.Require(x.Widths.Length > 0 && x.Alphas.Length > 0 && x.Depths.Length > 0, "give at least one width, alpha and depth");
        BoundInputs.Require(x.Depths.All(l => l >= 3), "every depth must be ≥ 3 (seed 003 prunes layers 1 < k < l; l < 3 prunes nothing)");
        BoundInputs.Require(x.Alphas.All(a => a > 0 && a < (x.Theorem == 3 ? 2 : 1)), $"every alpha must lie in (0, {(x.Theorem == 3 ? 2 : 1)})");
        BoundInputs.Require(x.InputDim >= 1 && x.Outputs >= 1, "input dimension and outputs must be ≥ 1");
        BoundInputs.Require(x.Widths.All(d => d >= Math.Max(2, Math.Max(x.InputDim, x.Outputs))),
            $"every width must be ≥ max(2, d_0 = {x.InputDim}, d_l = {x.Outputs}) (seed 003 assumption ii)");
        BoundInputs.Require(x.Draws >= 1, $"draws = {x.Draws} must be ≥ 1");
        BoundInputs.Positive(x.Epsilon, "epsilon");
        BoundInputs.Positive(x.K, "K");
        BoundInputs.Positive(x.Radius, "radius");
        if (x.Theorem == 3)
            BoundInputs.Require(x.KernelSize >= 1 && x.Spatial > x.KernelSize, $"need 1 ≤ q < p (kernel {x.KernelSize}, maps {x.Spatial}×{x.Spatial})");
        return (law, set);
    }

    static GapRow Row(GapStudyRequest x, GapLaw law, GapInputSet set, GapSearch search, int d, double a, int l)
    {
        var lower = new double[x.Draws];
        var cert = new double[x.Draws];
        long[] pruned = [];
        double radius = set == GapInputSet.Ball ? x.Radius : 0;
        for (int i = 0; i < x.Draws; i++)
        {
            using var gen = new Generator((ulong)Seeds.For(x.Seed, $"gap/{x.Theorem}/{law}/{d}/{a:R}/{l}/{i}"));
            using var pair = x.Theorem == 3 ? Cnn(x, law, d, a, l, gen, out pruned) : Fcn(x, law, d, a, l, gen, out pruned);
            double r = set == GapInputSet.Ball ? radius : Math.Sqrt(pair.InputSize);
            cert[i] = pair.Certificate(r).Bound;
            lower[i] = search.Lower(pair, set, radius, gen).Value;
        }
        var (gap, prob, conditions) = Theorem(x, law, d, a, l);
        // A probability outside (0, 1] is no guarantee: p0 of Theorem 1 is a product of two factors that are both negative at small d.
        bool vacuous = prob <= 0 || prob > 1;
        double level = vacuous ? 1 : prob;
        double lq = Quantile(lower, level), cq = Quantile(cert, level);
        return new GapRow(x.Theorem, d, a, l, x.Draws, pruned, lower, cert, lower.Average(), lower.Max(), cert.Average(), cert.Max(),
            lower.Zip(cert).Average(p => p.Second / Math.Max(p.First, 1e-300)),
            lower.Count(v => v <= x.Epsilon) / (double)x.Draws, cert.Count(v => v <= x.Epsilon) / (double)x.Draws,
            gap, prob, gap <= x.Epsilon && !vacuous ? prob : 0, vacuous, conditions, level, lq, cq, gap / lq, gap / cq);
    }

    static double Quantile(double[] v, double q) => q >= 1 ? v.Max() : Statistics.Quantile(v, q);

    /// <summary>The theorem's gap bound at (d, α, l), its success probability and whether its side conditions hold, from the existing calculators.</summary>
    static (double Gap, double Probability, bool Conditions) Theorem(GapStudyRequest x, GapLaw law, int d, double a, int l)
    {
        int[] widths = [x.InputDim, .. Enumerable.Repeat(d, l - 1), x.Outputs];
        var (k1, k2) = Moments(law, x.K);
        switch (x.Theorem)
        {
            case 1:
                var t1 = MagnitudePruningBound.Evaluate(new(widths, a, x.Epsilon, 0.1, [1], x.K));
                return (t1.GapBound * x.Radius, t1.SuccessProbability, t1.GapConditionHolds && t1.WidthAssumption);
            case 2:
                var t2 = RandomPruningBound.Evaluate(new(widths, a, x.Epsilon, 0.1, [1], [NormBound(k1)], [0.001], k1, k2));
                return (t2.GapBound * x.Radius, t2.SuccessProbability, t2.GapConditionHolds && t2.AlphaAdmissible && t2.WidthAssumption);
            default:
                double beta2 = x.Beta2 ?? a / 8;
                var t3 = ConvPruningBound.Evaluate(new(l, d, x.InputDim, x.Outputs, x.Spatial, x.Spatial, x.KernelSize, 1, a, x.Beta1, beta2, x.Epsilon, k1, k2));
                return (t3.GapBound, t3.SuccessProbability, t3.AlphaAdmissible && t3.BallsIntoBinsHolds && t3.WidthAssumption);
        }
    }

    /// <summary>
    /// Theorem 2's N_k: 2.5·√K1 with δ_k = 0.001 (‖W‖₂ of an m×m matrix with entries of variance K1/m is ≈ 2√K1; seed 003 Table 3 and
    /// <c>qk-bounds</c>' default).
    /// </summary>
    public static double NormBound(double k1) => 2.5 * Math.Sqrt(k1);

    /// <summary>(K1, K2) with E W² = K1 s², E W⁴ = K2 s⁴ for the law at scale K·s.</summary>
    public static (double K1, double K2) Moments(GapLaw law, double k) => law switch
    {
        GapLaw.Uniform => (k * k / 3, Math.Pow(k, 4) / 5),
        GapLaw.Normal => (k * k, 3 * Math.Pow(k, 4)),
        _ => (k * k, Math.Pow(k, 4)),
    };

    /// <summary>Entries of the given law at scale K·s.</summary>
    public static Tensor Draw(GapLaw law, double ks, long[] shape, Generator gen) => law switch
    {
        GapLaw.Uniform => rand(shape, dtype: ScalarType.Float64, generator: gen).mul_(2 * ks).sub_(ks),
        GapLaw.Normal => randn(shape, dtype: ScalarType.Float64, generator: gen).mul_(ks),
        _ => rand(shape, dtype: ScalarType.Float64, generator: gen).ge_(0.5).to_type(ScalarType.Float64).mul_(2 * ks).sub_(ks),
    };

    /// <summary>An FCN d_0 → d → … → d → d_l of depth l with its seed-003 pruned copy (magnitude for Theorem 1, random otherwise).</summary>
    public static GapPair Fcn(GapStudyRequest x, GapLaw law, int d, double alpha, int l, Generator gen, out long[] prunedPerLayer)
    {
        int[] widths = [x.InputDim, .. Enumerable.Repeat(d, l - 1), x.Outputs];
        var target = new List<Tensor>();
        var pruned = new List<Tensor>();
        var counts = new List<long>();
        for (int k = 1; k <= l; k++)
        {
            var w = Draw(law, x.K / Math.Sqrt(Math.Max(widths[k], widths[k - 1])), [widths[k], widths[k - 1]], gen);
            target.Add(w);
            if (k == 1 || k == l) pruned.Add(w.clone());
            else
            {
                var (p, c) = x.Theorem == 1 ? PruneMagnitude(w, alpha) : PruneRandom(w, alpha, gen);
                pruned.Add(p);
                counts.Add(c);
            }
        }
        prunedPerLayer = [.. counts];
        return new GapPair(target, pruned, x.Activation);
    }

    /// <summary>
    /// A circular CNN: convolutions d_0 → d → … → d ([d, d_{k−1}, q, q]) on p×p maps for k &lt; l, then a dense d_l × d p² layer, all entries
    /// at scale K/(p√d) (seed 003 Thm 3 (iii)); kernels of the convolutions 1 &lt; k &lt; l pruned at random with replacement.
    /// </summary>
    public static GapPair Cnn(GapStudyRequest x, GapLaw law, int d, double alpha, int l, Generator gen, out long[] prunedPerLayer)
    {
        int p = x.Spatial, q = x.KernelSize;
        double ks = x.K / (p * Math.Sqrt(d));
        var target = new List<Tensor>();
        var pruned = new List<Tensor>();
        var counts = new List<long>();
        for (int k = 1; k < l; k++)
        {
            var w = Draw(law, ks, [d, k == 1 ? x.InputDim : d, q, q], gen);
            target.Add(w);
            if (k == 1) pruned.Add(w.clone());
            else
            {
                var (pw, c) = PruneKernels(w, alpha, gen);
                pruned.Add(pw);
                counts.Add(c);
            }
        }
        var last = Draw(law, ks, [x.Outputs, (long)d * p * p], gen);
        target.Add(last);
        pruned.Add(last.clone());
        prunedPerLayer = [.. counts];
        return new GapPair(target, pruned, x.Activation, p);
    }

    /// <summary>Seed 003 §4: the ⌊D^{1−α}⌋ smallest |W| set to zero (<see cref="Seed003Method.PruneCount"/>); returns the count.</summary>
    public static (Tensor Pruned, long Count) PruneMagnitude(Tensor w, double alpha)
    {
        long count = Seed003Method.PruneCount(w.numel(), alpha);
        using var scope = NewDisposeScope();
        var flat = w.flatten().clone();
        var order = flat.abs().argsort();
        flat[order[TensorIndex.Slice(0, count)]] = zeros(count, dtype: flat.dtype);
        return (flat.view(w.shape).MoveToOuterDisposeScope(), count);
    }

    /// <summary>Seed 003 §4: ⌊D^{1−α}⌋ entries drawn uniformly with replacement set to zero; returns the number of draws.</summary>
    public static (Tensor Pruned, long Count) PruneRandom(Tensor w, double alpha, Generator gen)
    {
        long n = w.numel(), count = Seed003Method.PruneCount(n, alpha);
        using var scope = NewDisposeScope();
        var keep = randint(0, n, [count], generator: gen).bincount(null, n).eq(0).to_type(w.dtype);
        return (w.mul(keep.view(w.shape)).MoveToOuterDisposeScope(), count);
    }

    /// <summary>Seed 003 Thm 3: ⌊(d'd)^{1−α/2}⌋ (= ⌊d^{2−α}⌋) kernels drawn with replacement set to zero (<see cref="Seed003Method.KernelPruneCount"/>).</summary>
    public static (Tensor Pruned, long Count) PruneKernels(Tensor w, double alpha, Generator gen)
    {
        long kernels = w.shape[0] * w.shape[1], count = Seed003Method.KernelPruneCount(kernels, alpha);
        using var scope = NewDisposeScope();
        var keep = randint(0, kernels, [count], generator: gen).bincount(null, kernels).eq(0).to_type(w.dtype);
        return (w.mul(keep.view(w.shape[0], w.shape[1], 1, 1)).MoveToOuterDisposeScope(), count);
    }

    /// <summary>gap-theoremN.png: P(gap ≤ ε) against d: lower estimate (an upper bound on it), certificate (a lower bound) and the theorem's guarantee.</summary>
    public static void Plot(string path, GapReport report)
    {
        var series = new List<Series>();
        foreach (var g in report.Rows.GroupBy(r => (r.Alpha, r.Depth)))
        {
            double[] xs = [.. g.Select(r => (double)r.D)];
            string tag = $"α={g.Key.Alpha:g3}, l={g.Key.Depth}";
            series.Add(new($"lower est., {tag}", xs, [.. g.Select(r => r.ProbabilityLower)]));
            series.Add(new($"certificate, {tag}", xs, [.. g.Select(r => r.ProbabilityCertificate)]));
            series.Add(new($"theorem, {tag}", xs, [.. g.Select(r => r.GuaranteedProbability)]));
        }
        var labels = report.Rows.Select(r => r.D).Distinct().Order().Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Plots.Lines(path, $"Seed 003 Theorem {report.Theorem}: P(sup‖f − F‖ ≤ {report.Epsilon:g3}), {report.Draws} draws", report.Theorem == 3 ? "channels d" : "width d",
            "probability", series, width: 1000, xTickLabels: labels);
    }
}
