using InitPrune.Engine;
using MathNet.Numerics.RootFinding;

namespace InitPrune.Theory;

/// <summary>A point on the Edge of Chaos: χ(σb, σw) = 1 at the fixed point q* (<see cref="EdgeOfChaos.QZero"/> when q* → 0, as for tanh at σb = 0).</summary>
public sealed record EocPoint(double SigmaB, double SigmaW, double QStar);

/// <summary>
/// The Edge of Chaos (seed 001 §2.2, Hayou et al. 2019): for a given σb, the σw with χ = σw² E[φ′(√q* Z)²] = 1.
/// Solved through q*: on the EOC, σw²(q) = 1 / E[φ′(√q Z)²] and the fixed-point equation gives
/// σb²(q) = q − σw²(q) E[φ(√q Z)²]; one root of σb²(q) = σb² in log q (Brent) then gives σw to ~1e-12.
/// </summary>
public static class EdgeOfChaos
{
    const double QMin = 1e-12, QMax = 1e8;
    const int PerDecade = 4;

    /// <summary>The q* reported for the q* → 0 limit (tanh, relu at σb = 0): small enough to be 0, large enough to keep kinks apart.</summary>
    public const double QZero = 1e-24;

    /// <summary>σw on the Edge of Chaos for this σb.</summary>
    public static double SigmaW(ActivationFunction phi, double sigmaB) => Point(phi, sigmaB).SigmaW;

    public static double SigmaW(string activation, double sigmaB) => SigmaW(ActivationFunctions.Get(activation), sigmaB);

    /// <summary>The EOC point (σb, σw, q*) for this σb; a one-line error when the activation has none there.</summary>
    public static EocPoint Point(ActivationFunction phi, double sigmaB) => new Solver(phi).Solve(sigmaB);

    /// <summary>The EOC point for this σb, or null when the activation has none there.</summary>
    public static EocPoint? TryPoint(ActivationFunction phi, double sigmaB) => new Solver(phi).TrySolve(sigmaB);

    /// <summary>The EOC curve σb ↦ σw (the phase diagram's boundary), null where there is none; the q-grid is shared.</summary>
    public static EocPoint?[] Curve(ActivationFunction phi, IReadOnlyList<double> sigmaBs)
    {
        var solver = new Solver(phi);
        return [.. sigmaBs.Select(solver.TrySolve)];
    }

    /// <summary>n evenly spaced values from lo to hi.</summary>
    public static double[] Range(double lo, double hi, int n)
    {
        if (n < 1) throw new InitPruneException($"the number of points must be ≥ 1, got {n}");
        if (!(lo >= 0 && hi >= lo) || !double.IsFinite(hi)) throw new InitPruneException($"the sigma_b range must satisfy 0 ≤ min ≤ max, got [{lo}, {hi}]");
        return [.. Enumerable.Range(0, n).Select(i => n == 1 ? lo : lo + (hi - lo) * i / (n - 1))];
    }

    sealed class Solver
    {
        readonly ActivationFunction phi;
        readonly double[] logQ;
        readonly double[] b2;

        public Solver(ActivationFunction phi)
        {
            this.phi = phi;
            var n = (int)Math.Round(Math.Log10(QMax / QMin) * PerDecade);
            logQ = [.. Enumerable.Range(0, n + 1).Select(i => Math.Log(QMin) + i * Math.Log(QMax / QMin) / n)];
            b2 = [.. logQ.Select(SigmaB2)];
        }

        /// <summary>Seed 001 §2.2 (χ = 1) with the fixed point of Appendix B.1.1: σw²(q) = 1/E[φ′(√q Z)²].</summary>
        double SigmaW2(double logq)
        {
            var s = Math.Sqrt(Math.Exp(logq));
            return 1 / GaussianExpectation.E(z => Sq(phi.DPhi(s * z)), phi.Breakpoints(s));
        }

        /// <summary>σb²(q) = q − σw²(q) E[φ(√q Z)²], the bias variance that makes q the fixed point.</summary>
        double SigmaB2(double logq)
        {
            var q = Math.Exp(logq);
            var s = Math.Sqrt(q);
            return q - SigmaW2(logq) * GaussianExpectation.E(z => Sq(phi.Phi(s * z)), phi.Breakpoints(s));
        }

        public EocPoint Solve(double sigmaB) => TrySolve(sigmaB) ?? throw new InitPruneException(
            $"{phi.Name} has no Edge of Chaos at sigma_b = {sigmaB}: no q* in [{QMin:g}, {QMax:g}] gives chi = 1 (relu-like activations have one only at sigma_b = 0)");

        public EocPoint? TrySolve(double sigmaB)
        {
            if (!(sigmaB >= 0) || !double.IsFinite(sigmaB))
                throw new InitPruneException($"sigma_b must be a finite number ≥ 0, got {sigmaB}");
            var target = sigmaB * sigmaB;
            // σb = 0 with σb²(q) → 0 as q → 0 (tanh, relu): the EOC is the q → 0 limit.
            if (target == 0 && Math.Abs(b2[0]) <= 1e-12)
                return At(0, Math.Log(QZero));
            for (var i = 0; i + 1 < logQ.Length; i++)
            {
                double lo = b2[i] - target, hi = b2[i + 1] - target;
                if (lo == 0) return At(sigmaB, logQ[i]);
                if (Math.Sign(lo) != Math.Sign(hi))
                    return At(sigmaB, Brent.FindRoot(u => SigmaB2(u) - target, logQ[i], logQ[i + 1], 1e-13, 200));
            }
            return null;
        }

        EocPoint At(double sigmaB, double logq) => new(sigmaB, Math.Sqrt(SigmaW2(logq)), Math.Exp(logq));
    }

    static double Sq(double x) => x * x;
}
