using InitPrune.Engine;
using InitPrune.Theory;

namespace InitPrune.Tests.Theory.Jacobian;

public class ToyJacobianTests
{
    [Fact]
    public void OneStepMatchesAHandComputation()
    {
        // w = (1, 2), α = 1, x̄² = 1, γ = 0.01: J = 2, A = J(J − α) = 2, gradients x̄²(J − α)·(w2, w1) = (2, 1), w' = (0.98, 1.99),
        // J' = 1.9502; S = w2² + w1² = 5, JΓ = x̄² A S = 10, first order −2γJΓ = −0.2, exact 1.9502² − 4.
        var step = ToyJacobian.Step([1.0, 2.0], 1, 1, 0.01, out var next);
        Assert.Equal([0.98, 1.99], next);
        Assert.Equal(2, step.J0, 12);
        Assert.Equal(1.9502, step.J1, 12);
        Assert.Equal(2, step.A, 12);
        Assert.Equal(5, step.S, 12);
        Assert.Equal(10, step.JGamma, 12);
        Assert.Equal(-0.2, step.FirstOrder, 12);
        Assert.Equal(1.9502 * 1.9502 - 4, step.Exact, 12);
    }

    [Fact]
    public void GradientIsTheDerivativeOfTheLoss()
    {
        double[] w = [0.7, -1.3, 0.4];
        const double alpha = 1.5, x2 = 0.8, h = 1e-6;
        static double Loss(double[] v) => 0.5 * x2 * Math.Pow(v.Aggregate(1.0, (a, b) => a * b) - alpha, 2);
        var g = ToyJacobian.Gradient(w, alpha, x2);
        for (int l = 0; l < w.Length; l++)
        {
            double[] up = [.. w], down = [.. w];
            up[l] += h;
            down[l] -= h;
            Assert.Equal((Loss(up) - Loss(down)) / (2 * h), g[l], 7);
        }
    }

    [Fact]
    public void JacobianSquaredFallsOnAverageAtTheFirstStep()
    {
        // L = 2, σw² = 1: E[A₀] = 1 and E[−2γ x̄² A₀ S₀] = −2γ x̄² · 2 · 3; tolerance 5 standard errors of the Monte Carlo mean.
        var r = ToyJacobian.Run(new ToyJacobianRequest(Depth: 2, LearningRate: 1e-4, Trials: 200_000, Steps: 1, Seed: 3));
        Assert.Equal(1, r.TheoryA0);
        Assert.Equal(-2 * 1e-4 * r.MeanX2 * 6, r.TheoryFirstOrder, 15);
        Assert.True(Math.Abs(r.MeanA0 - 1) <= 5 * r.StandardErrorA0, $"E[A0] {r.MeanA0} ± {r.StandardErrorA0}");
        Assert.True(Math.Abs(r.MeanFirstOrder - r.TheoryFirstOrder) <= 5 * r.StandardErrorFirstOrder, $"first order {r.MeanFirstOrder} ± {r.StandardErrorFirstOrder} vs {r.TheoryFirstOrder}");
        // The exact change is the first-order one up to O(γ²), and negative well beyond its error.
        Assert.True(r.MeanExactChange < -5 * r.StandardErrorExactChange);
        Assert.Equal(r.MeanFirstOrder, r.MeanExactChange, Math.Abs(r.MeanFirstOrder) * 0.05);
        // Per draw J² falls exactly when A₀ > 0 to first order: P(J(J − 1) > 0) = P(J > 1) + P(J < 0) < 1.
        Assert.InRange(r.FractionDecreasing, 0.5, 0.9);
    }

    [Fact]
    public void BadRequestsAreUserErrors()
    {
        Assert.Throws<InitPruneException>(() => ToyJacobian.Run(new ToyJacobianRequest(Depth: 0)));
        Assert.Throws<InitPruneException>(() => ToyJacobian.Run(new ToyJacobianRequest(LearningRate: -1)));
    }
}
