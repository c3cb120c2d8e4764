using InitPrune.Engine;
using MathNet.Numerics.RootFinding;

namespace InitPrune.Theory;

/// <summary>
/// The mean-field maps of a wide FFNN with weights N(0, σw²/fan_in), biases N(0, σb²) and activation φ
/// (seed 001 Appendix B.1, after Schoenholz et al. 2017 and Hayou et al. 2019).
/// </summary>
public sealed class MeanFieldMap
{
    public ActivationFunction Activation { get; }
    public double SigmaW { get; }
    public double SigmaB { get; }

    public MeanFieldMap(ActivationFunction activation, double sigmaW, double sigmaB)
    {
        if (!(sigmaW > 0) || !double.IsFinite(sigmaW))
            throw new InitPruneException($"sigma_w must be a finite number > 0, got {sigmaW}");
        if (!(sigmaB >= 0) || !double.IsFinite(sigmaB))
            throw new InitPruneException($"sigma_b must be a finite number ≥ 0, got {sigmaB}");
        (Activation, SigmaW, SigmaB) = (activation, sigmaW, sigmaB);
    }

    public MeanFieldMap(string activation, double sigmaW, double sigmaB) : this(ActivationFunctions.Get(activation), sigmaW, sigmaB) { }

    double W2 => SigmaW * SigmaW;
    double B2 => SigmaB * SigmaB;

    /// <summary>Quadrature cuts of z ↦ φ(a z), for either sign of a.</summary>
    IEnumerable<double> Kinks(double a) => a >= 0 ? Activation.Breakpoints(a) : Activation.Breakpoints(-a).Select(z => -z);

    /// <summary>For a given z1, the cuts of z2 ↦ φ(a (c z1 + s z2)).</summary>
    Func<double, IEnumerable<double>> Inner(double a, double c, double s) =>
        z1 => s > 0 ? Activation.Breakpoints(a * s).Select(z => z - c * z1 / s) : [];

    /// <summary>Seed 001 Appendix B.1.1: q^l = σb² + σw² E[φ(√q^{l−1} Z)²].</summary>
    public double VarianceMap(double q)
    {
        CheckQ(q);
        var s = Math.Sqrt(q);
        return B2 + W2 * GaussianExpectation.E(z => Sq(Activation.Phi(s * z)), Kinks(s));
    }

    /// <summary>dq^l/dq^{l−1} = σw² E[φ(√q Z) φ′(√q Z) Z] / √q (differentiating under the expectation).</summary>
    public double VarianceMapDerivative(double q)
    {
        if (!(q > 0)) throw new InitPruneException($"the variance map's derivative needs q > 0, got {q}");
        var s = Math.Sqrt(q);
        return W2 * GaussianExpectation.E(z => Activation.Phi(s * z) * Activation.DPhi(s * z) * z, Kinks(s)) / s;
    }

    /// <summary>
    /// The fixed point q* = σb² + σw² E[φ(√q* Z)²] reached by iterating the variance map from <paramref name="q0"/>,
    /// or null when q^l diverges (no fixed point above q0). When every q is fixed (ReLU, σw = √2, σb = 0) it is q0.
    /// </summary>
    public double? FixedPointQ(double q0 = 1)
    {
        CheckQ(q0);
        var q = q0;
        for (var i = 0; i < 200; i++)
        {
            var next = VarianceMap(q);
            if (Math.Abs(next - q) <= 1e-14 * Math.Max(1, q)) return next;
            if (!double.IsFinite(next) || next > 1e15) return null;
            q = next;
        }
        // Slow convergence (V′(q*) near 1): bracket the root of V(q) − q next to the last iterate and solve it.
        double G(double x) => VarianceMap(x) - x;
        var g = G(q);
        double lo = q, hi = q;
        if (g > 0)
        {
            while (G(hi) > 0)
            {
                lo = hi;
                hi *= 2;
                if (hi > 1e15) return null;
            }
        }
        else
        {
            while (G(lo) < 0)
            {
                hi = lo;
                lo /= 2;
                if (lo < 1e-300) return 0; // q^l → 0 (e.g. tanh with σb = 0, σw ≤ 1)
            }
        }
        return Brent.FindRoot(G, lo, hi, 1e-14 * Math.Max(1, hi), 200);
    }

    /// <summary>The fixed point q*, or a one-line error when q^l diverges.</summary>
    public double RequireFixedPointQ(double q0 = 1) =>
        FixedPointQ(q0) ?? throw new InitPruneException(
            $"q^l diverges for {Activation.Name} with sigma_w = {SigmaW}, sigma_b = {SigmaB}: there is no fixed point q*; lower sigma_w");

    /// <summary>
    /// Covariance of the next layer's pre-activations for inputs with variances qa, qb and correlation c:
    /// σb² + σw² E[φ(√qa Z1) φ(√qb (c Z1 + √(1−c²) Z2))] (seed 001 Appendix B.1.1).
    /// </summary>
    public double Covariance(double qa, double qb, double c)
    {
        CheckQ(qa); CheckQ(qb); CheckC(c);
        double sa = Math.Sqrt(qa), sb = Math.Sqrt(qb), s = Math.Sqrt(Math.Max(0, 1 - c * c));
        var phi = Activation.Phi;
        return B2 + W2 * GaussianExpectation.E2((z1, z2) => phi(sa * z1) * phi(sb * (c * z1 + s * z2)), Kinks(sa).Concat(Kinks(sb * c)), Inner(sb, c, s));
    }

    /// <summary>Seed 001 Eq. (15): f(c) = [σb² + σw² E[φ(√q Z1) φ(√q Z(c))]] / q, Z(c) = c Z1 + √(1−c²) Z2.</summary>
    public double CorrelationMap(double c, double q) => Covariance(q, q, c) / q;

    /// <summary>f′(c) = σw² E[φ′(√q Z1) φ′(√q Z(c))] (Gaussian integration by parts); f′(1) = χ.</summary>
    public double CorrelationMapDerivative(double c, double q)
    {
        CheckQ(q); CheckC(c);
        double sq = Math.Sqrt(q), s = Math.Sqrt(Math.Max(0, 1 - c * c));
        var d = Activation.DPhi;
        return W2 * GaussianExpectation.E2((z1, z2) => d(sq * z1) * d(sq * (c * z1 + s * z2)), Kinks(sq).Concat(Kinks(sq * c)), Inner(sq, c, s));
    }

    /// <summary>Seed 001 §2.2 / Appendix B.1.2: χ(q) = σw² E[φ′(√q Z)²].</summary>
    public double Chi(double q)
    {
        CheckQ(q);
        var s = Math.Sqrt(q);
        return W2 * GaussianExpectation.E(z => Sq(Activation.DPhi(s * z)), Kinks(s));
    }

    /// <summary>χ = f′(1) = σw² E[φ′(√q* Z)²] at the fixed point q*.</summary>
    public double Chi() => Chi(RequireFixedPointQ());

    /// <summary>Seed 001 §2.2: ordered (χ &lt; 1), Edge of Chaos (|χ − 1| ≤ tolerance), chaotic (χ &gt; 1), or divergent q^l.</summary>
    public Phase Phase(double tolerance = 1e-6)
    {
        if (FixedPointQ() is not { } q) return Theory.Phase.Divergent;
        var chi = Chi(q);
        return Math.Abs(chi - 1) <= tolerance ? Theory.Phase.EdgeOfChaos : chi < 1 ? Theory.Phase.Ordered : Theory.Phase.Chaotic;
    }

    /// <summary>
    /// The stable fixed point c* of f: 1 unless chaotic (or q = 0, where f is the identity), else the limit of c^l from 0 (f is increasing, f(0) ≥ 0),
    /// bracketed against a point just below 1 and solved.
    /// </summary>
    public double CorrelationFixedPoint(double q)
    {
        if (q <= 0 || Chi(q) <= 1 + 1e-12) return 1;
        double G(double c) => CorrelationMap(c, q) - c;
        var g0 = G(0);
        if (g0 <= 1e-15) return 0;
        for (var k = 1; k <= 40; k++)
        {
            var hi = 1 - Math.Pow(2, -k);
            if (G(hi) < 0) return Brent.FindRoot(G, 0, hi, 1e-13, 200);
        }
        return 1;
    }

    /// <summary>
    /// Schoenholz et al. (2017) Eqs. (5), (9): ξ_q = −1/log V′(q*), ξ_c = −1/log f′(c*); in the ordered phase
    /// c* = 1 and ξ_c = −1/log χ (seed 001 §2.2). At <paramref name="qStar"/> when given (e.g. an EOC point's q*).
    /// </summary>
    public DepthScales DepthScales(double? qStar = null)
    {
        var q = qStar ?? RequireFixedPointQ();
        var cStar = CorrelationFixedPoint(q);
        var slopeC = cStar == 1 ? Chi(q) : CorrelationMapDerivative(cStar, q);
        var slopeQ = VarianceMapDerivative(Math.Max(q, 1e-200)); // q* = 0: the q → 0+ limit
        return new DepthScales(Scale(slopeQ), Scale(slopeC), q, cStar);
    }

    /// <summary>ξ = −1/log(slope) for a contraction; ∞ when the slope is 1 (Edge of Chaos) or more.</summary>
    static double Scale(double slope) => slope <= 0 ? 0 : slope >= 1 - 1e-12 ? double.PositiveInfinity : -1 / Math.Log(slope);

    static double Sq(double x) => x * x;

    static void CheckQ(double q)
    {
        if (!(q >= 0) || !double.IsFinite(q)) throw new InitPruneException($"a variance q must be finite and ≥ 0, got {q}");
    }

    static void CheckC(double c)
    {
        if (!(c >= -1 && c <= 1)) throw new InitPruneException($"a correlation c must lie in [-1, 1], got {c}");
    }
}
