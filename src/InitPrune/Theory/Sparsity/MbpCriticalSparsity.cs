using InitPrune.Engine;
using MathNet.Numerics;

namespace InitPrune.Theory;

/// <summary>The bound of <see cref="MbpCriticalSparsity.LargeDepthBound"/> and where its infimum is reached.</summary>
public sealed record MbpBound(double Gamma, double ZetaN2, double Value, double Epsilon, double XEpsilonGamma);

/// <summary>Magnitude-based pruning: seed 001 Prop. 4 (= seed 000 Prop. 6) and seed 000 Prop. 11.</summary>
public static class MbpCriticalSparsity
{
    /// <summary>
    /// Seed 001 Prop. 4: x_{ε,γ} = inf{y ∈ (0,1): ∀x > y, γ·Q_x > Q_{1−(1−x)^{γ^{2−ε}}}}, Q_x the x-quantile of |N(0,1)|.
    /// Returns the largest x where the inequality fails (0 when it never fails). Evaluated in u = 1 − x with
    /// Q_{1−u} = √2·erfc⁻¹(u), scanned on a log grid from u_min (where u^{γ^{2−ε}} = 1e-300) up to 1 and refined by
    /// bisection; when it already fails at u_min the result is 1 − u_min, i.e. 1 to double precision.
    /// </summary>
    public static double XEpsilonGamma(double epsilon, double gamma)
    {
        CheckGamma(gamma);
        if (!(epsilon > 0 && epsilon < 2))
            throw new InitPruneException($"epsilon {epsilon} is impossible: Prop. 4 takes ε in (0, 2)");
        double a = Math.Pow(gamma, 2 - epsilon);
        // g(u) > 0 ⇔ the inequality holds at x = 1 − u; it holds for u → 0 (Lemma 4), find the first u where it fails.
        double G(double u) => gamma * SpecialFunctions.ErfcInv(u) - SpecialFunctions.ErfcInv(Math.Pow(u, a));
        const int steps = 3000;
        double logMin = -300 / a, prev = Math.Pow(10, logMin);
        if (G(prev) <= 0) return 1 - prev;
        for (int i = 1; i <= steps; i++)
        {
            double u = i == steps ? 1 - 1e-12 : Math.Pow(10, logMin * (1 - (double)i / steps));
            if (G(u) <= 0)
            {
                double lo = prev, hi = u;
                for (int k = 0; k < 200 && hi - lo > 1e-15 * hi; k++)
                {
                    double mid = Math.Sqrt(lo * hi);
                    if (G(mid) <= 0) hi = mid; else lo = mid;
                }
                return 1 - hi;
            }
            prev = u;
        }
        return 0;
    }

    /// <summary>Seed 001 Prop. 4: the bracket x_{ε,γ} + ζ_{l0}N²/(1+γ^{2−ε})·(1 − x_{ε,γ})^{1+γ^{2−ε}} at one ε.</summary>
    public static double BoundAt(double epsilon, double gamma, double zetaN2)
    {
        double x = XEpsilonGamma(epsilon, gamma), a = Math.Pow(gamma, 2 - epsilon);
        return x + zetaN2 / (1 + a) * Math.Pow(1 - x, 1 + a);
    }

    /// <summary>
    /// Seed 001 Prop. 4: E[s_cr] ≤ inf_{ε∈(0,2)} {x_{ε,γ} + ζ_{l0}N²/(1+γ^{2−ε})·(1−x_{ε,γ})^{1+γ^{2−ε}}} + O(1/√(LN²)),
    /// the infimum taken on a grid of ε then refined by golden-section search around the best grid point.
    /// <paramref name="zetaN2"/> is M_{l0}, the number of weights of the layer with the largest variance scaling.
    /// </summary>
    public static MbpBound LargeDepthBound(double gamma, double zetaN2)
    {
        CheckGamma(gamma);
        if (!(zetaN2 >= 1) || !double.IsFinite(zetaN2))
            throw new InitPruneException($"zeta·N² = {zetaN2} is impossible: it counts the weights of layer l0 and must be ≥ 1");
        const int grid = 200;
        double Eps(int i) => 2.0 * i / grid;
        var values = Enumerable.Range(1, grid - 1).Select(i => BoundAt(Eps(i), gamma, zetaN2)).ToArray();
        int best = 1 + Array.IndexOf(values, values.Min());
        double lo = Eps(best - 1) + 1e-9, hi = Eps(best + 1) - 1e-9, r = (Math.Sqrt(5) - 1) / 2;
        for (int k = 0; k < 60; k++)
        {
            double c = hi - r * (hi - lo), d = lo + r * (hi - lo);
            if (BoundAt(c, gamma, zetaN2) < BoundAt(d, gamma, zetaN2)) hi = d; else lo = c;
        }
        double eps = (lo + hi) / 2;
        return new MbpBound(gamma, zetaN2, BoundAt(eps, gamma, zetaN2), eps, XEpsilonGamma(eps, gamma));
    }

    /// <summary>
    /// Seed 000 Prop. 11: P(layer l0 is fully pruned before the others) ≥ 1 − Lπ²/(4(γ−1)² log(N)²), without the
    /// o(1/log(N)²) term; clipped at 0 where the bound is vacuous.
    /// </summary>
    public static double LargeWidthProbability(int depth, int width, double gamma)
    {
        CheckGamma(gamma);
        if (depth < 1 || width < 2)
            throw new InitPruneException($"depth {depth}, width {width} are impossible here: Prop. 11 needs depth ≥ 1 and width ≥ 2");
        double logN = Math.Log(width);
        return Math.Max(0, 1 - depth * Math.PI * Math.PI / (4 * (gamma - 1) * (gamma - 1) * logN * logN));
    }

    static void CheckGamma(double gamma)
    {
        if (!(gamma > 1) || !double.IsFinite(gamma))
            throw new InitPruneException($"gamma {gamma} is impossible: γ = min_l α_l0/α_l must be a finite ratio > 1");
    }
}
