using InitPrune.Engine;
using MathNet.Numerics;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.RootFinding;
using MathNet.Numerics.Statistics;

namespace InitPrune.Theory;

/// <summary>
/// Best subset-sum errors for n products w₁w₂ (w₁ ~ U[0, 1], w₂ ~ U[−1, 1]): median and quartiles over all targets and
/// trials, the median per target, and the Poisson prediction of the median (see <see cref="SubsetSumStudy.PoissonMedian"/>).
/// </summary>
public sealed record SubsetSumRow(int N, double MedianError, double LowerQuartile, double UpperQuartile, double PoissonMedian, double[] MedianByTarget);

/// <summary>The study and the least-squares line ln(median error) = intercept + slope · n, measured and predicted.</summary>
public sealed record SubsetSumResult(IReadOnlyList<SubsetSumRow> Rows, double[] Targets, int Trials, long Seed,
    double Slope, double Intercept, double Log10Slope, double PoissonSlope);

/// <summary>
/// Seed 004 Theorem 5 (B.4) needs a subset S of n ≥ C log(1/min(ε, δ)) candidates w₁ᵢw₂ᵢ with |θ − Σ_S w₁ᵢw₂ᵢ| ≤ ε, i.e. a best
/// error decaying exponentially in n. This draws the candidates, finds the exact best subset and fits the decay.
/// </summary>
public static class SubsetSumStudy
{
    public static SubsetSumResult Run(IReadOnlyList<int> sizes, IReadOnlyList<double> targets, int trials, long seed)
    {
        if (sizes.Count < 2 || sizes.Any(n => n < 1 || n > SubsetSum.MaxItems) || sizes.Distinct().Count() != sizes.Count)
            throw new InitPruneException($"sizes [{string.Join(", ", sizes)}] must be at least two distinct counts in [1, {SubsetSum.MaxItems}]");
        if (targets.Count == 0 || targets.Any(t => !(Math.Abs(t) <= 1) || t == 0))
            throw new InitPruneException($"targets [{string.Join(", ", targets)}] must be non-empty and lie in [−1, 1] without 0 (the empty subset meets 0 exactly)");
        if (trials < 1)
            throw new InitPruneException($"trials {trials} must be at least 1");
        var rows = new List<SubsetSumRow>();
        foreach (int n in sizes)
        {
            var random = new Random((int)(Seeds.For(seed, $"subset-sum/{n}") & int.MaxValue));
            var errors = targets.Select(_ => new double[trials]).ToArray();
            for (int t = 0; t < trials; t++)
                for (int z = 0; z < targets.Count; z++)
                {
                    // Seed 004 B.4: candidates w₂ᵢφ(w₁ᵢ y) with w₁ᵢ ~ U[0, 1], w₂ᵢ ~ U[−1, 1].
                    var items = Enumerable.Range(0, n).Select(_ => random.NextDouble() * (2 * random.NextDouble() - 1)).ToArray();
                    errors[z][t] = SubsetSum.BestError(items, targets[z]);
                }
            var all = errors.SelectMany(e => e).ToArray();
            rows.Add(new SubsetSumRow(n, all.Median(), all.LowerQuartile(), all.UpperQuartile(), PoissonMedian(n, targets),
                [.. errors.Select(e => e.Median())]));
        }
        var ns = rows.Select(r => (double)r.N).ToArray();
        var (intercept, slope) = Fit.Line(ns, [.. rows.Select(r => Math.Log(r.MedianError))]);
        var (_, poissonSlope) = Fit.Line(ns, [.. rows.Select(r => Math.Log(r.PoissonMedian))]);
        return new SubsetSumResult(rows, [.. targets], trials, seed, slope, intercept, slope / Math.Log(10), poissonSlope);
    }

    /// <summary>
    /// Heuristic median of the best error: treat the 2ⁿ subset sums as a Poisson process of density 2ⁿ·N(z; 0, n/18)
    /// (a random subset sum has mean 0 and variance n·E[(w₁w₂)²]/2 = n/18), so P(error &gt; d) = exp(−2ρ_z d); the median
    /// over the targets solves mean_z P(error ≤ d) = 1/2.
    /// </summary>
    public static double PoissonMedian(int n, IReadOnlyList<double> targets)
    {
        var density = targets.Select(z => Math.Pow(2, n) * Normal.PDF(0, Math.Sqrt(n / 18.0), z)).ToArray();
        double Excess(double d) => density.Average(r => 1 - Math.Exp(-2 * r * d)) - 0.5;
        double hi = Math.Log(2) / (2 * density.Min());
        return Brent.FindRoot(Excess, 0, hi, 1e-14 * hi, 200);
    }
}
