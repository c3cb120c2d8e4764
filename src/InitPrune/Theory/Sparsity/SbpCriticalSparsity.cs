using InitPrune.Engine;

namespace InitPrune.Theory;

/// <summary>Seed 001 Theorem 1: upper bound on E[s_cr] for sensitivity-based pruning (SNIP) initialized off the EOC.</summary>
public static class SbpCriticalSparsity
{
    /// <summary>Seed 001 Theorem 1: κ = |log χ| / 8 (natural log; χ = f'(1) of the correlation map).</summary>
    public static double Kappa(double chi)
    {
        if (!(chi > 0) || !double.IsFinite(chi))
            throw new InitPruneException($"chi {chi} is impossible: χ = σw²·E[φ'(√q z)²] must be finite and > 0");
        return Math.Abs(Math.Log(chi)) / 8;
    }

    /// <summary>
    /// Seed 001 Theorem 1: E[s_cr] ≤ (1/L)·(1 + log(κ L N²)/κ), dropping the O(1/(κ²√(LN²))) remainder.
    /// With L = N = 100, κ = 0.2 this is 27.5% with base-10 logs (the paper's "≈ 27%") and 62.0% with natural logs.
    /// </summary>
    public static double Bound(int depth, int width, double kappa, LogBase logBase = LogBase.Natural)
    {
        if (depth < 1 || width < 1)
            throw new InitPruneException($"depth {depth}, width {width} are impossible: both must be ≥ 1");
        if (!(kappa > 0) || !double.IsFinite(kappa))
            throw new InitPruneException($"kappa {kappa} is impossible: Theorem 1 needs κ = |log χ|/8 > 0, i.e. an initialization off the Edge of Chaos (χ ≠ 1)");
        double l = depth, n2 = (double)width * width;
        return (1 + logBase.Log(kappa * l * n2) / kappa) / l;
    }
}
