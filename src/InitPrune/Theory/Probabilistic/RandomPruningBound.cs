namespace InitPrune.Theory;

/// <summary>Inputs of seed 003 Theorem 2: widths d_0..d_l, E W² ≤ K1/max(d_k,d_{k−1}), E W⁴ ≤ K2/max(…)², P(‖W_k*‖₂ ≤ N_k) ≥ 1 − δ_k.</summary>
/// <param name="NormBounds">N_1..N_l (one value is repeated); default 2.5 (‖W‖ of an N(0, 1/d) matrix is ≈ 2, Table 3).</param>
/// <param name="NormDeltas">δ_1..δ_l (one value is repeated).</param>
public sealed record RandomPruningInput(int[] Widths, double Alpha, double Epsilon, double Delta, double[] Lipschitz,
    double[] NormBounds, double[] NormDeltas, double K1 = 1, double K2 = 3, double LatalaC = ProbabilisticConstants.Table3C);

/// <summary>Conditions (3)/(4) for one pruned layer k: ⌊D_k^{1−α}⌋ pruned weights thrown into d_k rows and d_{k−1} columns.</summary>
public sealed record BallsIntoBinsCheck(int Layer, long Pruned, double AlphaMaxRows, double AlphaMaxColumns, bool RowsHold, bool ColumnsHold);

public sealed record RandomPruningReport(
    int Depth, int D, bool WidthAssumption, bool AlphaAdmissible, BallsIntoBinsCheck[] Layers, double SmallDelta0, bool DeltaBudgetHolds,
    double SmallC2, double C1, double C2, double C3, double C4,
    double RequiredWidth, double Log10RequiredWidth, bool WidthSufficient,
    double GapBound, bool GapConditionHolds, double MaskProbability, double SuccessProbability);

/// <summary>Seed 003 Theorem 2 (random pruning of an FCN), with the constants of its proof (Appendix B.1).</summary>
public static class RandomPruningBound
{
    public static RandomPruningReport Evaluate(RandomPruningInput x)
    {
        int d = BoundInputs.HiddenWidth(x.Widths);
        int l = x.Widths.Length - 1;
        BoundInputs.Positive(x.Epsilon, "epsilon");
        BoundInputs.Probability(x.Delta, "delta");
        BoundInputs.Positive(x.K1, "K1");
        BoundInputs.Positive(x.K2, "K2");
        BoundInputs.Positive(x.LatalaC, "Latala constant C");
        BoundInputs.Require(x.Alpha > 0 && x.Alpha < 1, $"alpha = {x.Alpha} is outside Theorem 2's range (0, 1)");
        var lip = BoundInputs.PerLayer(x.Lipschitz, l - 1, "Lipschitz constants");
        var n = BoundInputs.PerLayer(x.NormBounds, l, "norm bounds N_k");
        var dk = BoundInputs.PerLayer(x.NormDeltas, l, "norm failure probabilities delta_k");
        BoundInputs.Require(dk.All(v => v < 1), "every delta_k must lie in (0, 1)");
        double a = x.Alpha, twoPow = Math.Pow(2, l - 2) - 1;

        // Conditions (3)/(4) as the proof of Lemma 6's use needs them: ⌊D_k^{1−α}⌋ ≥ d_k log d_k (rows) and ≥ d_{k−1} log d_{k−1}
        // (columns) for every pruned layer 1 < k < l, with D_k = d_k d_{k−1}; the sufficient closed form has +log log n (as in Thm 3).
        var layers = Enumerable.Range(2, l - 2).Select(k =>
        {
            double big = (double)x.Widths[k] * x.Widths[k - 1];
            long pruned = (long)Math.Floor(Math.Pow(big, 1 - a));
            return new BallsIntoBinsCheck(k, pruned, BoundInputs.AlphaMax(x.Widths[k], Math.Log(big)), BoundInputs.AlphaMax(x.Widths[k - 1], Math.Log(big)),
                BoundInputs.BallsIntoBins(pruned, x.Widths[k]), BoundInputs.BallsIntoBins(pruned, x.Widths[k - 1]));
        }).ToArray();

        // Seed 003 Eq. (5): δ0 = δ − [δ_l + Σ_{i<l} (l−i) δ_i].
        double delta0 = x.Delta - (dk[l - 1] + Enumerable.Range(1, l - 1).Sum(i => (l - i) * dk[i - 1]));
        // Seed 003 Eq. (19): c2 = c1 (2√(3K1) + K2^{1/4}), c1 the Latała constant.
        double c2 = x.LatalaC * (2 * Math.Sqrt(3 * x.K1) + Math.Pow(x.K2, 0.25));
        double nMinInner = n.Skip(1).Take(l - 2).Min(), nProd = BoundInputs.Product(n), lProd = BoundInputs.Product(lip);
        // Seed 003 Eqs. (25)–(27): C1 = 1/min N_k, C2 = (2^{l−2}−1) L_{1:l−1} N_{1:l}, C3 = 3(l−2), C4 = 3 c2 (l−2).
        double cc1 = 1 / nMinInner, cc2 = twoPow * lProd * nProd, cc3 = 3.0 * (l - 2), cc4 = 3 * c2 * (l - 2);
        double log10Required = delta0 > 0
            ? BoundInputs.Log10Max(4 * Math.Log(cc1) / a, 4 * Math.Log(cc2 / x.Epsilon) / a, 3 * Math.Log(cc3 / delta0), 4 * Math.Log(cc4 / delta0) / a)
            : double.PositiveInfinity;

        // Seed 003 Eq. (15) and the end of B.1: gap (2^{l−2}−1) d^{−α/4} L_{1:l−1} N_{1:l}, valid while d^{−α/4} ≤ N_k (1 < k < l).
        double t = Math.Pow(d, -a / 4);
        double gap = twoPow * t * lProd * nProd;
        // Seed 003 App. B.1: p0 = (1 − d^{−1/3})^{2(l−2)} (1 − δ_l) [1 − (l−2) c2 d^{−α/4} − Σ_{i<l} (l−i) δ_i].
        double mask = Math.Pow(1 - Math.Pow(d, -1.0 / 3), 2 * (l - 2));
        double p0 = BoundInputs.Guarantee(mask, 1 - dk[l - 1], 1 - (l - 2) * c2 * t - Enumerable.Range(1, l - 1).Sum(i => (l - i) * dk[i - 1]));
        bool admissible = layers.All(c => c.RowsHold && c.ColumnsHold);
        return new(l, d, d >= Math.Max(x.Widths[0], x.Widths[l]), admissible, layers, delta0, delta0 > 0, c2, cc1, cc2, cc3, cc4,
            Math.Pow(10, log10Required), log10Required, Math.Log10(d) >= log10Required, gap, t <= nMinInner, mask, p0);
    }
}
