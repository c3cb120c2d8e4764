using InitPrune.Engine;
using MathNet.Numerics;
using MathNet.Numerics.Distributions;

namespace InitPrune.Theory;

/// <summary>Seed 002 §5: factors that restore a stable Jacobian after pruning an n×n layer at sparsity s.</summary>
public static class RescalingFactors
{
    /// <summary>Seed 002 Theorem 5: random pruning keeps a fraction 1 − s, rescale by (1 − s)^{−1/2}.</summary>
    public static double Random(double sparsity)
    {
        CheckSparsity(sparsity);
        return 1 / Math.Sqrt(1 - sparsity);
    }

    /// <summary>
    /// E[sum of the r largest of m iid χ²(1) draws] = Σ_{j≤r} E Φ⁻¹(1 − B^{(j)}), B^{(j)} ~ Beta(j, m − j + 1), exactly.
    /// The densities of the top r order statistics sum to m·f(x)·P(Bin(m−1, 1−F(x)) ≤ r−1) = m·f(x)·I_{F(x)}(m−r, r), so
    /// with x = z², z = |X|: E = m ∫₀^∞ z²·2φ(z)·I_{F(z)}(m−r, r) dz, F(z) = erf(z/√2), by adaptive Gauss–Kronrod
    /// split at the quantile where the incomplete-beta weight drops.
    /// </summary>
    public static double TopSumExact(long m, long r)
    {
        if (m < 1 || r < 0 || r > m)
            throw new InitPruneException($"keeping r = {r} of m = {m} weights is impossible: need m ≥ 1 and 0 ≤ r ≤ m");
        if (r == 0) return 0;
        if (r == m) return m;
        // The integral takes seconds (minutes for m ~ 1e5) and every layer of a shape repeats it: computed once per (m, r).
        return TopSums.GetOrAdd((m, r), k => TopSumIntegral(k.M, k.R));
    }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<(long M, long R), double> TopSums = new();

    static double TopSumIntegral(long m, long r)
    {
        double Integrand(double z) => z * z * 2 * Normal.PDF(0, 1, z) * SpecialFunctions.BetaRegularized(m - r, r, SpecialFunctions.Erf(z / Constants.Sqrt2));
        double zq = FoldedNormalUpperQuantile((double)r / m), w = 8 / Math.Sqrt(m) + 1e-3;
        double[] cuts = [0, Math.Max(0, zq - w), zq, zq + w, 40];
        double sum = 0;
        for (int i = 0; i + 1 < cuts.Length; i++)
            if (cuts[i + 1] > cuts[i]) sum += Integrate.GaussKronrod(Integrand, cuts[i], cuts[i + 1], 1e-12, 20, 61);
        return m * sum;
    }

    /// <summary>
    /// Large-n limit of E[top-r sum]/m with r/m → p: the quantile integral ∫_{1−p}^1 F_{χ²}⁻¹(u) du = E[X²; |X| > c]
    /// = p + 2c·φ(c), with c = Q_{1−p} the upper p-quantile of |X| (integration by parts of x²φ(x)).
    /// </summary>
    public static double TopMeanLargeN(double keepFraction)
    {
        if (!(keepFraction >= 0 && keepFraction <= 1))
            throw new InitPruneException($"keep fraction {keepFraction} is impossible: it must be in [0, 1]");
        if (keepFraction == 0) return 0;
        double c = FoldedNormalUpperQuantile(keepFraction);
        return keepFraction + 2 * c * Normal.PDF(0, 1, c);
    }

    /// <summary>
    /// Seed 002 Theorem 6 / Eq. (5): magnitude pruning of an n×n layer keeping r_n = round((1 − s)n²) weights,
    /// t_n^{−2} = (1/n²)·Σ_{j=1}^{r_n} E Φ⁻¹(1 − B_n^{(j)}), computed exactly.
    /// </summary>
    public static double MagnitudeExact(int width, double sparsity)
    {
        CheckSparsity(sparsity);
        if (width < 1) throw new InitPruneException($"width {width} is impossible: it must be ≥ 1");
        long m = (long)width * width, r = (long)Math.Round((1 - sparsity) * m, MidpointRounding.AwayFromZero);
        if (r == 0) throw new InitPruneException($"sparsity {sparsity} keeps no weight of a {width}×{width} layer: lower it below {1 - 0.5 / m:0.######}");
        return Math.Sqrt(m / TopSumExact(m, r));
    }

    /// <summary>Seed 002 Eq. (5) as n → ∞ with 1 − s fixed: t^{−2} = (1 − s) + 2c·φ(c), c = Q_{1−(1−s)} for |N(0,1)|.</summary>
    public static double MagnitudeLargeN(double sparsity)
    {
        CheckSparsity(sparsity);
        return 1 / Math.Sqrt(TopMeanLargeN(1 - sparsity));
    }

    /// <summary>
    /// Seed 002 Theorems 5 and 6: stability needs 1 − s_n ≫ log(n)^k/n, k = 5 for random and 4 for magnitude pruning;
    /// returns the edge sparsity 1 − log(n)^k/n (≤ 0 when the sufficient condition is vacuous at this width).
    /// </summary>
    public static double EdgeOfStability(int width, int logPower, LogBase logBase = LogBase.Natural)
    {
        if (width < 2) throw new InitPruneException($"width {width} is impossible here: the edge of stability needs n ≥ 2");
        return 1 - Math.Pow(logBase.Log(width), logPower) / width;
    }

    /// <summary>c with P(|X| > c) = p for X ~ N(0, 1): c = √2·erfc⁻¹(p).</summary>
    static double FoldedNormalUpperQuantile(double p) => Constants.Sqrt2 * SpecialFunctions.ErfcInv(p);

    static void CheckSparsity(double sparsity)
    {
        if (!(sparsity >= 0 && sparsity < 1))
            throw new InitPruneException($"sparsity {sparsity} is impossible: it must be in [0, 1)");
    }
}
