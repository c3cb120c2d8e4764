using InitPrune.Engine;
using MathNet.Numerics.Integration;
using MathNet.Numerics.LinearAlgebra;

namespace InitPrune.Theory;

/// <summary>The best zero-bias fit f(x) = w₊φ(x) + w₋φ(−x) to the constant g(x) = c on [−1, 1].</summary>
/// <param name="Integral">∫₋₁¹ (g − f)² dx.</param>
/// <param name="MeanSquaredError">The integral divided by the length 2 of the domain (the mean under U[−1, 1]).</param>
public sealed record ZeroBiasFit(double Constant, double WPlus, double WMinus, double Integral, double MeanSquaredError);

/// <summary>Seed 004 Lemma 1: ReLU networks without biases cannot approximate a constant (the counterexample g = 0.5).</summary>
public static class ZeroBiasCounterexample
{
    /// <summary>Least squares over (w₊, w₋) by Gauss–Legendre quadrature of the normal equations.</summary>
    public static ZeroBiasFit BestFit(double constant = 0.5)
    {
        if (!double.IsFinite(constant))
            throw new InitPruneException($"constant {constant} is not finite; give a finite target value");
        // Seed 004 Lemma 1: a bias-free univariate ReLU network is f(x) = w₊φ(x) + w₋φ(−x).
        Func<double, double>[] basis = [x => Math.Max(x, 0), x => Math.Max(-x, 0)];
        var gram = Matrix<double>.Build.Dense(2, 2, (i, j) => Integrate(x => basis[i](x) * basis[j](x)));
        var rhs = Vector<double>.Build.Dense(2, i => Integrate(x => constant * basis[i](x)));
        var w = gram.Solve(rhs);
        double integral = Integrate(x => Math.Pow(constant - w[0] * basis[0](x) - w[1] * basis[1](x), 2));
        return new ZeroBiasFit(constant, w[0], w[1], integral, integral / 2);
    }

    // The integrands are polynomials on [−1, 0] and [0, 1]; splitting at the kink makes Gauss–Legendre exact.
    static double Integrate(Func<double, double> f) =>
        GaussLegendreRule.Integrate(f, -1, 0, 8) + GaussLegendreRule.Integrate(f, 0, 1, 8);
}
