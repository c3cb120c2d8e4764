using MathNet.Numerics;
using MathNet.Numerics.Distributions;

namespace InitPrune.Theory;

/// <summary>A 2×2 contingency table of two binary variables over N draws: N[a, b] = #{draws with first = a, second = b}.</summary>
public sealed record Table2x2(long N00, long N01, long N10, long N11)
{
    public long Total => N00 + N01 + N10 + N11;

    /// <summary>Counts the four (a, b) combinations of two equally long 0/1 vectors.</summary>
    public static Table2x2 Of(IReadOnlyList<bool> a, IReadOnlyList<bool> b)
    {
        if (a.Count != b.Count) throw new ArgumentException($"the two samples have {a.Count} and {b.Count} draws; they must match", nameof(b));
        long[] c = new long[4];
        for (int i = 0; i < a.Count; i++) c[(a[i] ? 2 : 0) + (b[i] ? 1 : 0)]++;
        return new(c[0], c[1], c[2], c[3]);
    }
}

/// <summary>
/// Pearson's χ² test of independence on a 2×2 table (1 degree of freedom). <see cref="Degenerate"/> when a row or column is empty
/// (one variable never varied): the statistic is then undefined, reported as NaN with p-value NaN.
/// </summary>
public sealed record ChiSquareTest(double Statistic, double PValue, bool Degenerate, bool Yates);

/// <summary>A one-sample Kolmogorov–Smirnov test: D = sup |F_n − F| and its asymptotic p-value (Stephens' small-sample correction).</summary>
public sealed record KsTest(int N, double Statistic, double PValue);

/// <summary>A proportion k/n with its Clopper–Pearson (exact) interval at the given level.</summary>
public sealed record Proportion(long Successes, long Trials, double Fraction, double Lower, double Upper, double Level)
{
    public bool Contains(double p) => Lower <= p && p <= Upper;
}

/// <summary>Pearson's r between two samples with the two-sided p-value of the t test of r = 0 (n − 2 degrees of freedom); NaN when a sample is constant.</summary>
public sealed record CorrelationTest(int N, double R, double PValue);

/// <summary>The statistics of the Approximation 1 diagnostics (seed 002 App. G.1): χ², Kolmogorov–Smirnov, binomial intervals, correlation.</summary>
public static class IndependenceTests
{
    /// <summary>
    /// χ² = N (n00 n11 − n01 n10)² / (r0 r1 c0 c1) (Pearson), or with Yates' continuity correction N (|n00 n11 − n01 n10| − N/2)₊² / (r0 r1 c0 c1)
    /// (scipy's chi2_contingency default for 2×2 tables); p = P(χ²(1) ≥ statistic).
    /// </summary>
    public static ChiSquareTest ChiSquare(Table2x2 t, bool yates = false)
    {
        double n = t.Total, r0 = t.N00 + t.N01, r1 = t.N10 + t.N11, c0 = t.N00 + t.N10, c1 = t.N01 + t.N11;
        if (r0 == 0 || r1 == 0 || c0 == 0 || c1 == 0) return new(double.NaN, double.NaN, true, yates);
        double det = Math.Abs((double)t.N00 * t.N11 - (double)t.N01 * t.N10);
        if (yates) det = Math.Max(0, det - n / 2);
        // Divide step by step: the product of the four margins overflows long and loses nothing in double this way.
        double stat = n * det / r0 * det / r1 / c0 / c1;
        return new(stat, ChiSquareSurvival(stat), false, yates);
    }

    /// <summary>
    /// The randomized conditional p-value of the χ² test: given the margins, n11 is hypergeometric under independence, and
    /// p = P(|N n11' − r1 c1| &gt; |N n11 − r1 c1|) + u · P(|N n11' − r1 c1| = |N n11 − r1 c1|) with u ~ U(0, 1). Unlike the asymptotic χ² p-value,
    /// which lives on a lattice (visible to a KS test over many tables), it is exactly U(0, 1) under independence. NaN for a degenerate table.
    /// </summary>
    public static double RandomizedPValue(Table2x2 t, double u)
    {
        long n = t.Total, r1 = t.N10 + t.N11, c1 = t.N01 + t.N11;
        if (r1 == 0 || r1 == n || c1 == 0 || c1 == n) return double.NaN;
        long observed = Math.Abs(n * t.N11 - r1 * c1);
        double above = 0, tie = 0;
        for (long k = Math.Max(0, r1 + c1 - n); k <= Math.Min(r1, c1); k++)
        {
            long dev = Math.Abs(n * k - r1 * c1);
            if (dev < observed) continue;
            // C(c1, k) C(n − c1, r1 − k) / C(n, r1)
            double pmf = Math.Exp(SpecialFunctions.BinomialLn((int)c1, (int)k) + SpecialFunctions.BinomialLn((int)(n - c1), (int)(r1 - k)) - SpecialFunctions.BinomialLn((int)n, (int)r1));
            if (dev > observed) above += pmf;
            else tie += pmf;
        }
        return Math.Clamp(above + u * tie, 0, 1);
    }

    /// <summary>P(χ²(1) ≥ x) = Q(1/2, x/2), exact in the upper tail (1 − CDF would round to 0 below 1e-16).</summary>
    public static double ChiSquareSurvival(double x) => x <= 0 ? 1 : SpecialFunctions.GammaUpperRegularized(0.5, x / 2);

    /// <summary>Kolmogorov–Smirnov test of <paramref name="sample"/> against U(0, 1).</summary>
    public static KsTest UniformKs(IReadOnlyCollection<double> sample)
    {
        var z = sample.Order().ToArray();
        int n = z.Length;
        if (n == 0) return new(0, double.NaN, double.NaN);
        double d = 0;
        for (int i = 0; i < n; i++)
        {
            double f = Math.Clamp(z[i], 0, 1);
            d = Math.Max(d, Math.Max((i + 1.0) / n - f, f - (double)i / n));
        }
        double sqrtN = Math.Sqrt(n);
        return new(n, d, WeightStats.KolmogorovP((sqrtN + 0.12 + 0.11 / sqrtN) * d));
    }

    /// <summary>k/n with the Clopper–Pearson interval [B⁻¹(a/2; k, n − k + 1), B⁻¹(1 − a/2; k + 1, n − k)], a = 1 − level.</summary>
    public static Proportion Binomial(long k, long n, double level = 0.95)
    {
        if (n <= 0 || k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"need 0 ≤ k ≤ n, n > 0 (k = {k}, n = {n})");
        double a = 1 - level;
        double lo = k == 0 ? 0 : Beta.InvCDF(k, n - k + 1, a / 2);
        double hi = k == n ? 1 : Beta.InvCDF(k + 1, n - k, 1 - a / 2);
        return new(k, n, (double)k / n, lo, hi, level);
    }

    /// <summary>Pearson's r and the p-value of t = r √((n − 2)/(1 − r²)) under Student's t(n − 2).</summary>
    public static CorrelationTest Correlation(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException($"the two samples have {x.Count} and {y.Count} values; they must match", nameof(y));
        int n = x.Count;
        if (n < 3 || x.Min() == x.Max() || y.Min() == y.Max()) return new(n, double.NaN, double.NaN);
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        if (sxx <= 0 || syy <= 0) return new(n, double.NaN, double.NaN);
        double r = Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1, 1);
        if (Math.Abs(r) >= 1) return new(n, r, 0);
        double t = r * Math.Sqrt((n - 2) / (1 - r * r));
        return new(n, r, 2 * StudentT.CDF(0, 1, n - 2, -Math.Abs(t)));
    }
}
