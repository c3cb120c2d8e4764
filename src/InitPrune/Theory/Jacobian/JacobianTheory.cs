namespace InitPrune.Theory.Jacobian;

/// <summary>
/// What seed 002 predicts for ‖J_1‖ of a ReLU MLP with iid N(0, σw²/n) weights (Theorem 1, from Pennington et al.
/// 2017 Eq. (17)): ‖J_1‖² ≈ Θ(L (σw²/2)^L) in the infinite-width limit. The paper prints the law for ‖J_1‖ itself,
/// but Eq. (17) is about the largest eigenvalue of J Jᵀ, i.e. ‖J‖²; the measurements agree with the squared form
/// (width 256: slopes −0.667 and +0.373 for σw² = 0.5 and 4 against ½log(σw²/2) = −0.693 and +0.347; docs/theory.md).
/// L is the number of hidden weight layers inside the span: an InitPrune MLP of depth D has L = D − 1.
/// </summary>
public static class JacobianTheory
{
    /// <summary>d log‖J_1‖ / dL = ½ log(σw²/2): 0 on the Edge of Chaos σw² = 2, where ‖J_1‖ grows like √L only.</summary>
    public static double LogSlope(double sigmaW2) => 0.5 * Math.Log(sigmaW2 / 2);

    /// <summary>The slope as the paper prints Theorem 1 (‖J_1‖ ≈ Θ(L(σw²/2)^L)): log(σw²/2), twice <see cref="LogSlope"/>.</summary>
    public static double PaperLogSlope(double sigmaW2) => Math.Log(sigmaW2 / 2);

    /// <summary>log‖J_1‖ up to an additive constant: ½(log L + L log(σw²/2)).</summary>
    public static double LogNorm(int spanDepth, double sigmaW2) => 0.5 * (Math.Log(Math.Max(spanDepth, 1)) + spanDepth * Math.Log(sigmaW2 / 2));

    /// <summary>The paper's L for an InitPrune MLP of <paramref name="mlpDepth"/> hidden layers: Y_0 is the first hidden layer's pre-activation.</summary>
    public static int SpanDepth(int mlpDepth) => mlpDepth - 1;
}
