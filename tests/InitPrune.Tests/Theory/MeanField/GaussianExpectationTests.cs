using InitPrune.Theory;
using MathNet.Numerics;
using MathNet.Numerics.Integration;

namespace InitPrune.Tests.Theory.MeanField;

public class GaussianExpectationTests
{
    static double Cdf(double x) => 0.5 * SpecialFunctions.Erfc(-x / Constants.Sqrt2);
    static double Pdf(double x) => Math.Exp(-0.5 * x * x) / Constants.Sqrt2Pi;

    [Fact]
    public void SmoothMomentsMatchClosedForms()
    {
        Assert.Equal(1.0, GaussianExpectation.E(z => z * z), 1e-13);
        Assert.Equal(3.0, GaussianExpectation.E(z => Math.Pow(z, 4)), 1e-12);
        Assert.Equal(Math.Exp(-0.5 * 2.3 * 2.3), GaussianExpectation.E(z => Math.Cos(2.3 * z)), 1e-13);
        Assert.Equal(Math.Exp(0.5 * 0.7 * 0.7), GaussianExpectation.E(z => Math.Exp(0.7 * z)), 1e-12);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(-1.1)]
    [InlineData(2.5)]
    public void KinkedFunctionsMatchClosedForms(double k)
    {
        // E[(Z − k)+] = φ(k) − k (1 − Φ(k)); E[|Z − k|] = 2φ(k) + k (2Φ(k) − 1).
        Assert.Equal(Pdf(k) - k * (1 - Cdf(k)), GaussianExpectation.E(z => Math.Max(z - k, 0), [k]), 1e-12);
        Assert.Equal(2 * Pdf(k) + k * (2 * Cdf(k) - 1), GaussianExpectation.E(z => Math.Abs(z - k), [k]), 1e-12);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(3.0)]
    [InlineData(40.0)]
    public void HardTanhSecondMomentHasTwoKinks(double s)
    {
        // E[clamp(sZ, −1, 1)²] = s² (2Φ(a) − 1 − 2aφ(a)) + 2(1 − Φ(a)), a = 1/s.
        var a = 1 / s;
        var exact = s * s * (2 * Cdf(a) - 1 - 2 * a * Pdf(a)) + 2 * (1 - Cdf(a));
        var phi = ActivationFunctions.Get("hard_tanh");
        Assert.Equal(exact, GaussianExpectation.E(z => Math.Pow(phi.Phi(s * z), 2), phi.Breakpoints(s)), 1e-12);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.6)]
    [InlineData(-0.8)]
    [InlineData(0.999)]
    public void ReluArcCosineKernel(double c)
    {
        // Cho & Saul: E[relu(Z1) relu(cZ1 + sZ2)] = (s + c(π − arccos c)) / (2π).
        var s = Math.Sqrt(1 - c * c);
        var exact = (s + c * (Math.PI - Math.Acos(c))) / (2 * Math.PI);
        var got = GaussianExpectation.E2((a, b) => Math.Max(a, 0) * Math.Max(c * a + s * b, 0), [0], z1 => [-c * z1 / s]);
        Assert.Equal(exact, got, 1e-11);
    }

    [Theory]
    [InlineData(0.4)]
    [InlineData(2.0)]
    [InlineData(9.0)]
    public void SmoothActivationAgreesWithMathNetAdaptiveKronrod(double s)
    {
        // A second numerical method: MathNet's adaptive Gauss–Kronrod on [−14, 14].
        double F(double z) => Math.Pow(Math.Tanh(s * z), 2) * Pdf(z);
        var reference = GaussKronrodRule.Integrate(F, -14, 0, out _, out _, 1e-14) + GaussKronrodRule.Integrate(F, 0, 14, out _, out _, 1e-14);
        var phi = ActivationFunctions.Get("tanh");
        Assert.Equal(reference, GaussianExpectation.E(z => Math.Pow(phi.Phi(s * z), 2), phi.Breakpoints(s)), 1e-11);
    }

    [Fact]
    public void TwoDimensionalAgreesWithAProductOfOneDimensionalExpectations()
    {
        var e1 = GaussianExpectation.E(z => Math.Exp(Math.Sin(z)));
        var e2 = GaussianExpectation.E(z => Math.Max(z - 0.2, 0), [0.2]);
        Assert.Equal(e1 * e2, GaussianExpectation.E2((a, b) => Math.Exp(Math.Sin(a)) * Math.Max(b - 0.2, 0), null, _ => [0.2]), 1e-12);
    }
}
