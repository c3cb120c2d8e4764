using MathNet.Numerics;

namespace InitPrune.Theory;

/// <summary>Moments of the order statistics of squared uniforms, the closed form behind Theorem 1 (seed 003).</summary>
public static class UniformOrderStatistics
{
    /// <summary>
    /// E[X_(r)^p] for X_i = U_i², U_i ~ U[−a, a] i.i.d., i ∈ [n].
    /// Seed 003 Lemma 1: E X_(r)^p = a^{2p} (r+2p−1)! n! / ((r−1)! (n+2p)!).
    /// </summary>
    public static double Moment(double a, int n, int r, int p)
    {
        if (n < 1 || r < 1 || r > n) throw new Engine.InitPruneException($"order statistic r={r} of n={n} samples is undefined: need 1 ≤ r ≤ n");
        if (p < 0) throw new Engine.InitPruneException($"moment order p={p} must be ≥ 0");
        double logRatio = SpecialFunctions.GammaLn(r + 2 * p) - SpecialFunctions.GammaLn(r)
            + SpecialFunctions.GammaLn(n + 1) - SpecialFunctions.GammaLn(n + 2 * p + 1);
        return Math.Pow(a, 2 * p) * Math.Exp(logRatio);
    }
}
