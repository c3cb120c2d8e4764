namespace InitPrune.Theory;

/// <summary>Inputs of seed 003 Theorem 1: widths d_0..d_l, entries U[−K/√max(d_k,d_{k−1}), +K/√…], layer-wise magnitude pruning of ⌊D_k^{1−α}⌋ weights.</summary>
/// <param name="C0">Lemma 3's bound ‖W_k*‖₂ ≤ c0 (default: Table 2's largest c0 for K = 1, scaled by K).</param>
/// <param name="Delta0">Lemma 3's rate: P(‖W_k*‖₂ ≤ c0) ≥ 1 − 2e^{−4δ0 d} (default: Table 2's smallest δ0).</param>
/// <param name="LatalaC">The universal constant C of Lemma 4 (default: Table 3's largest C).</param>
public sealed record MagnitudePruningInput(int[] Widths, double Alpha, double Epsilon, double Delta, double[] Lipschitz,
    double K = 1, double? C0 = null, double Delta0 = ProbabilisticConstants.Table2Delta0, double LatalaC = ProbabilisticConstants.Table3C);

/// <summary>What Theorem 1 guarantees for given inputs, at the network's own hidden width d.</summary>
public sealed record MagnitudePruningReport(
    int Depth, int D, bool WidthAssumption, double C0, double SmallC2,
    double C1, double C2, double C3, double C4, double C5,
    double RequiredWidth, double Log10RequiredWidth, bool WidthSufficient,
    double GapBound, bool GapConditionHolds, double SuccessProbability, long[] PrunedPerLayer);

/// <summary>Seed 003 Theorem 1 (magnitude pruning of an FCN), with the constants of its proof (Appendix B.2).</summary>
public static class MagnitudePruningBound
{
    public static MagnitudePruningReport Evaluate(MagnitudePruningInput x)
    {
        int d = BoundInputs.HiddenWidth(x.Widths);
        int l = x.Widths.Length - 1;
        BoundInputs.Positive(x.Epsilon, "epsilon");
        BoundInputs.Probability(x.Delta, "delta");
        BoundInputs.Positive(x.K, "K");
        BoundInputs.Positive(x.Delta0, "delta0 (Lemma 3)");
        BoundInputs.Positive(x.LatalaC, "Latala constant C");
        BoundInputs.Require(x.Alpha > 0 && x.Alpha < 1, $"alpha = {x.Alpha} is outside Theorem 1's range (0, 1)");
        var lip = BoundInputs.PerLayer(x.Lipschitz, l - 1, "Lipschitz constants");
        double c0 = x.C0 ?? ProbabilisticConstants.Table2C0 * x.K;
        BoundInputs.Positive(c0, "c0 (Lemma 3)");
        double a = x.Alpha, lProd = BoundInputs.Product(lip), twoPow = Math.Pow(2, l - 2) - 1;

        // Seed 003 App. B.2: c2 = C K (2√2 + 24^{1/4}), from Lemma 1's order statistics and Lemma 4.
        double c2 = x.LatalaC * x.K * (2 * Math.Sqrt(2) + Math.Pow(24, 0.25));
        // Seed 003 Eqs. (33)–(35): d ≥ c0^{−1/α}, d ≥ ((2^{l−2}−1) L_{1:l−1} c0^{l−1}/ε)^{1/α}, d ≥ ((l²−2)c2/δ)^{1/α}, d ≥ (log(1/δ) + log(l²−2))/(4δ0).
        double c1 = 1 / c0, cc2 = twoPow * lProd * Math.Pow(c0, l - 1), cc3 = (l * l - 2) * c2;
        double cc4 = Math.Log(l * l - 2) / (4 * x.Delta0), cc5 = 1 / (4 * x.Delta0);
        double lastTerm = cc4 + cc5 * Math.Log(1 / x.Delta);
        double log10Required = BoundInputs.Log10Max(Math.Log(c1) / a, Math.Log(cc2 / x.Epsilon) / a, Math.Log(cc3 / x.Delta) / a, Math.Log(lastTerm));
        double required = Math.Pow(10, log10Required);

        // Seed 003 Eq. (29)/(31) and the end of B.2: gap (2^{l−2}−1) d^{−α} L_{1:l−1} c0^{l−1}, valid while d^{−α} ≤ c0.
        double gap = twoPow * Math.Pow(d, -a) * lProd * Math.Pow(c0, l - 1);
        // Seed 003 App. B.2: p0 = (1 − 2e^{−4δ0 d})(1 − (l−2) c2 d^{−α} − (l+1)(l−2) e^{−4δ0 d}).
        double e = Math.Exp(-4 * x.Delta0 * d);
        double p0 = BoundInputs.Guarantee(1 - 2 * e, 1 - (l - 2) * c2 * Math.Pow(d, -a) - (l + 1) * (l - 2) * e);
        var pruned = Enumerable.Range(2, l - 2).Select(k => (long)Math.Floor(Math.Pow((double)x.Widths[k] * x.Widths[k - 1], 1 - a))).ToArray();
        return new(l, d, d >= Math.Max(x.Widths[0], x.Widths[l]), c0, c2, c1, cc2, cc3, cc4, cc5,
            required, log10Required, Math.Log10(d) >= log10Required, gap, Math.Pow(d, -a) <= c0, p0, pruned);
    }
}
