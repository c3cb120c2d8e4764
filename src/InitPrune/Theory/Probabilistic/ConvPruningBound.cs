namespace InitPrune.Theory;

/// <summary>
/// Inputs of seed 003 Theorem 3: a depth-l circular CNN with d channels of p×p maps (input d_0 × p_0 × p_0), q×q kernels,
/// L-Lipschitz σ, E F² ≤ C1/(p²d), E F⁴ ≤ C2/(p⁴d²), random pruning of ⌊d^{2−α}⌋ filters per inner layer.
/// </summary>
/// <param name="C5">The constant of P(‖W_l*‖ ≤ p^{−β1}) ≥ 1 − C5/p^{1−β1}, which the paper leaves unspecified; default C3.</param>
public sealed record ConvPruningInput(int Depth, int Channels, int InputChannels, int Outputs, int Spatial, int InputSpatial, int KernelSize,
    double Lipschitz, double Alpha, double Beta1, double Beta2, double? Epsilon = null,
    double MomentC1 = 1, double MomentC2 = 3, double LatalaC = ProbabilisticConstants.Table3C, double? C5 = null);

public sealed record ConvPruningReport(
    int Depth, long PrunedFilters, double AlphaMax, bool AlphaAdmissible, bool BallsIntoBinsHolds, bool WidthAssumption,
    double C3, double C4, double C5, double GapBound, bool? EpsilonMet, double MaskProbability, double WeightProbability, double SuccessProbability);

/// <summary>Seed 003 Theorem 3 (random filter pruning of a CNN), with the constants of its proof (Appendix B.3).</summary>
public static class ConvPruningBound
{
    public static ConvPruningReport Evaluate(ConvPruningInput x)
    {
        int l = x.Depth, d = x.Channels, p = x.Spatial;
        BoundInputs.Require(l >= 3, $"depth {l} is too small: seed 003 needs l ≥ 3");
        BoundInputs.Require(d >= 2 && x.InputChannels >= 1 && x.Outputs >= 1, "channels must be ≥ 2 and input channels, outputs ≥ 1");
        BoundInputs.Require(x.KernelSize >= 1 && p > x.KernelSize && x.InputSpatial >= 1, $"need 1 ≤ q < p (kernel {x.KernelSize}, maps {p}×{p}) and p_0 ≥ 1");
        BoundInputs.Positive(x.Lipschitz, "Lipschitz constant");
        BoundInputs.Positive(x.MomentC1, "moment constant C1");
        BoundInputs.Positive(x.MomentC2, "moment constant C2");
        BoundInputs.Positive(x.LatalaC, "Latala constant C");
        if (x.Epsilon is { } eps) BoundInputs.Positive(eps, "epsilon");
        BoundInputs.Require(x.Beta1 > 0 && x.Beta1 < 1, $"beta1 = {x.Beta1} must lie in (0, 1)");
        BoundInputs.Require(x.Alpha > 0, $"alpha = {x.Alpha} must be positive");
        BoundInputs.Require(x.Beta2 > 0 && x.Beta2 < x.Alpha / 4, $"beta2 = {x.Beta2} must lie in (0, alpha/4) = (0, {x.Alpha / 4:g4})");

        // Seed 003 Thm 3: 0 < α ≤ 2 − (log(d+1) + log log d)/log d, so that ⌊d^{2−α}⌋ ≥ d log d (Lemma 6).
        double alphaMax = 2 - (Math.Log(d + 1) + Math.Log(Math.Log(d))) / Math.Log(d);
        long pruned = (long)Math.Floor(Math.Pow(d, 2 - x.Alpha));
        // Seed 003 Eq. (36): C3 = C(2√C1 + C2^{1/4}); App. B.3: C4 = C(2√(3C1) + C2^{1/4}).
        double c3 = x.LatalaC * (2 * Math.Sqrt(x.MomentC1) + Math.Pow(x.MomentC2, 0.25));
        double c4 = x.LatalaC * (2 * Math.Sqrt(3 * x.MomentC1) + Math.Pow(x.MomentC2, 0.25));
        double c5 = x.C5 ?? c3;
        BoundInputs.Positive(c5, "C5");
        double pb = Math.Pow(p, -x.Beta1), db = Math.Pow(d, -x.Beta2), q2 = (double)x.KernelSize * x.KernelSize;
        // Seed 003 Eq. (11): sup ‖f − F‖ ≤ p^{−β1} L^{l−1} p_0 √d [p^{−β1}(p^{−β1} + d^{−β2})^{l−2} − p^{−(l−1)β1}].
        double gap = pb * Math.Pow(x.Lipschitz, l - 1) * x.InputSpatial * Math.Sqrt(d) * (pb * Math.Pow(pb + db, l - 2) - Math.Pow(p, -(l - 1) * x.Beta1));
        // Seed 003 Thm 3: p̄ = 1 − (l−2) C4 q²/p d^{−α/4+β2} − (l²−l−2)/2 C3 q²/p^{1−β1} − C5/p^{1−β1}, times (1 − d^{−1/3})^{2(l−2)} for the masks.
        double pFail = Math.Pow(p, 1 - x.Beta1);
        double pBar = 1 - (l - 2) * c4 * q2 / p * Math.Pow(d, -x.Alpha / 4 + x.Beta2) - (l * l - l - 2) / 2.0 * c3 * q2 / pFail - c5 / pFail;
        double mask = Math.Pow(1 - Math.Pow(d, -1.0 / 3), 2 * (l - 2));
        return new(l, pruned, alphaMax, x.Alpha <= alphaMax, BoundInputs.BallsIntoBins(pruned, d), d >= Math.Max(x.InputChannels, x.Outputs),
            c3, c4, c5, gap, x.Epsilon is { } e2 ? gap <= e2 : null, mask, pBar, mask * pBar);
    }
}
