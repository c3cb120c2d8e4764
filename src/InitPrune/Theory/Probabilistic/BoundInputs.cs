using InitPrune.Engine;

namespace InitPrune.Theory;

/// <summary>Checks shared by the seed-003 calculators: each impossible input is a one-line user error.</summary>
internal static class BoundInputs
{
    public static void Require(bool ok, string message)
    {
        if (!ok) throw new InitPruneException(message);
    }

    /// <summary>Widths d_0..d_l of an FCN: depth l ≥ 3, all positive; returns d = min hidden width (assumption (ii)).</summary>
    public static int HiddenWidth(IReadOnlyList<int> widths)
    {
        Require(widths.Count >= 4, $"{widths.Count} widths given: seed 003 needs depth l ≥ 3, i.e. at least 4 widths d_0,...,d_l");
        Require(widths.All(w => w >= 1), "every width must be positive");
        int d = widths.Skip(1).Take(widths.Count - 2).Min();
        Require(d >= 2, $"hidden width {d} is too small: the bounds need d ≥ 2");
        return d;
    }

    /// <summary>One value for every index (a single value is repeated), all positive.</summary>
    public static double[] PerLayer(IReadOnlyList<double> values, int count, string name)
    {
        Require(values.Count == 1 || values.Count == count, $"{name} has {values.Count} values: give one value or {count}");
        Require(values.All(v => v > 0 && double.IsFinite(v)), $"{name} must be positive and finite");
        return values.Count == 1 ? Enumerable.Repeat(values[0], count).ToArray() : [.. values];
    }

    public static void Positive(double value, string name) =>
        Require(value > 0 && double.IsFinite(value), $"{name} = {value} must be positive and finite");

    public static void Probability(double value, string name) =>
        Require(value > 0 && value < 1, $"{name} = {value} must lie in (0, 1)");

    public static double Product(IEnumerable<double> values) => values.Aggregate(1.0, (a, b) => a * b);

    /// <summary>
    /// A success probability p0 = Π factors, each factor a lower bound (1 − failure terms) of its own event. When a
    /// factor is ≤ 0 the guarantee is vacuous: the smallest factor (≤ 0) is returned, never the product of two
    /// negatives (which would read as a probability, even above 1).
    /// </summary>
    public static double Guarantee(params double[] factors) => factors.Any(f => f <= 0) ? factors.Min() : Product(factors);

    /// <summary>Largest α of the sufficient condition for Lemma 6's premise ⌊D^{1−α}⌋ ≥ n log n: α ≤ 1 − (log(n+1) + log log n)/log D (seed 003 Thm 3's sign; n ≥ 3).</summary>
    public static double AlphaMax(double n, double logD) => 1 - (Math.Log(n + 1) + Math.Log(Math.Log(n))) / logD;

    /// <summary>The balls-into-bins premise of seed 003 Lemma 6: N balls into n bins with N ≥ n log n.</summary>
    public static bool BallsIntoBins(double balls, double bins) => balls >= bins * Math.Log(bins);

    /// <summary>log10 of the largest of several terms given by their natural logs, so that astronomically large widths stay finite.</summary>
    public static double Log10Max(params double[] lnTerms) => lnTerms.Max() / Math.Log(10);
}
