using InitPrune.Engine;
using InitPrune.Pruning;

namespace InitPrune.Theory;

/// <summary>
/// Seed 002 rescaling factors of one n × n layer at one sparsity: random (1 − s)^{−1/2}; magnitude t_n exactly
/// (null above the exact-width limit) and in the large-n limit at the same kept fraction r/n².
/// </summary>
public sealed record RescalingRow(int Width, double Sparsity, long Kept, double ActualSparsity, double Random, double? MagnitudeExact, double MagnitudeLargeN, double? RelativeGap);

/// <summary>Seed 002 edges of stability of width n: 1 − log(n)^5/n (random) and 1 − log(n)^4/n (magnitude), in both log bases.</summary>
public sealed record StabilityEdge(int Width, double RandomLn, double RandomLog10, double MagnitudeLn, double MagnitudeLog10);

/// <summary>Seed 002 §5: the rescaling factors of random and magnitude pruning side by side, and the edges of stability.</summary>
public static class RescalingStudy
{
    /// <summary>Rows for every (width, sparsity); r = round((1 − s)n²) weights kept, as MaskBuilder keeps them.</summary>
    public static List<RescalingRow> Table(IReadOnlyList<int> widths, IReadOnlyList<double> sparsities, int exactMaxWidth = 256)
    {
        if (widths.Count == 0 || sparsities.Count == 0)
            throw new InitPruneException("give at least one width and one sparsity");
        var rows = new List<RescalingRow>();
        foreach (int n in widths)
            foreach (double s in sparsities)
            {
                MaskBuilder.CheckSparsity(s);
                if (n < 1) throw new InitPruneException($"width {n} is impossible: it must be ≥ 1");
                long m = (long)n * n, r = MaskBuilder.KeepCount(s, m);
                if (r == 0) throw new InitPruneException($"sparsity {s} keeps no weight of a {n}×{n} layer: lower it below {1 - 0.5 / m:0.######}");
                double actual = 1 - (double)r / m;
                double large = 1 / Math.Sqrt(RescalingFactors.TopMeanLargeN((double)r / m));
                double? exact = n <= exactMaxWidth ? RescalingFactors.MagnitudeExact(n, s) : null;
                rows.Add(new RescalingRow(n, s, r, actual, 1 / Math.Sqrt(1 - actual), exact, large, exact is { } e ? (e - large) / large : null));
            }
        return rows;
    }

    public static List<StabilityEdge> Edges(IReadOnlyList<int> widths) =>
        [.. widths.Select(n => new StabilityEdge(n,
            RescalingFactors.EdgeOfStability(n, 5, LogBase.Natural), RescalingFactors.EdgeOfStability(n, 5, LogBase.Ten),
            RescalingFactors.EdgeOfStability(n, 4, LogBase.Natural), RescalingFactors.EdgeOfStability(n, 4, LogBase.Ten)))];
}
