using InitPrune.Engine;
using InitPrune.Theory;
using MathNet.Numerics;

namespace InitPrune.Tests.Theory.MeanField;

public class EdgeOfChaosTests
{
    static double Cdf(double x) => 0.5 * SpecialFunctions.Erfc(-x / Constants.Sqrt2);

    /// <summary>
    /// The independent route: bisection on σw for χ(q*) − 1, with q* from plain fixed-point iteration of the
    /// variance map, using expectations supplied by the caller (closed forms or another quadrature).
    /// </summary>
    static double BisectSigmaW(double sigmaB, double hi, Func<double, double> ePhi2, Func<double, double> eDPhi2)
    {
        double lo = 0.9, q = 1.0;
        for (var it = 0; it < 40; it++)
        {
            var w = 0.5 * (lo + hi);
            for (var i = 0; i < 20000; i++)
            {
                var next = sigmaB * sigmaB + w * w * ePhi2(q);
                if (Math.Abs(next - q) < 1e-15) break;
                q = next;
            }
            if (w * w * eDPhi2(q) > 1) hi = w; else lo = w;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>Trapezoid rule with step 0.004 on [−10, 10]: spectrally accurate for analytic integrands such as tanh's.</summary>
    static double Trapezoid(Func<double, double> g)
    {
        double sum = 0;
        for (var i = 0; i < Nodes.Length; i++) sum += Weights[i] * g(Nodes[i]);
        return sum;
    }

    static readonly double[] Nodes = [.. Enumerable.Range(-2500, 5001).Select(i => i * 0.004)];
    static readonly double[] Weights = [.. Nodes.Select(z => (Math.Abs(z) > 9.999 ? 0.5 : 1) * 0.004 * Math.Exp(-0.5 * z * z) / Constants.Sqrt2Pi)];

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.1)]
    [InlineData(0.2)]
    [InlineData(0.3)]
    public void TanhEdgeOfChaosAgreesWithTrapezoidAndBisection(double sigmaB)
    {
        var independent = BisectSigmaW(sigmaB, 2.0,
            q => Trapezoid(z => Math.Pow(Math.Tanh(Math.Sqrt(q) * z), 2)),
            q => Trapezoid(z => Math.Pow(1 - Math.Pow(Math.Tanh(Math.Sqrt(q) * z), 2), 2)));
        var point = EdgeOfChaos.Point(ActivationFunctions.Get("tanh"), sigmaB);
        Assert.Equal(independent, point.SigmaW, 1e-7);
        Assert.Equal(1.0, new MeanFieldMap("tanh", point.SigmaW, sigmaB).Chi(point.QStar), 1e-10);
    }

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.1)]
    [InlineData(0.2)]
    [InlineData(0.3)]
    public void EluEdgeOfChaosAgreesWithErfcClosedFormsAndBisection(double sigmaB)
    {
        // ELU's kink at 0 handled analytically: E[φ′²] = 1/2 + e^{2q}Φ(−2√q), E[φ²] = q/2 + e^{2q}Φ(−2√q) − 2e^{q/2}Φ(−√q) + 1/2.
        double A(double q) => Math.Exp(2 * q) * Cdf(-2 * Math.Sqrt(q));
        // σw < √2 keeps q* finite (ELU grows linearly, like ReLU).
        var independent = BisectSigmaW(sigmaB, 1.4,
            q => q / 2 + A(q) - 2 * Math.Exp(q / 2) * Cdf(-Math.Sqrt(q)) + 0.5,
            q => 0.5 + A(q));
        Assert.Equal(independent, EdgeOfChaos.SigmaW("elu", sigmaB), 1e-8);
    }

    [Fact]
    public void ReluEdgeOfChaosIsSqrtTwoAtZeroBiasAndAbsentOtherwise()
    {
        // Seed 001 §2.2 / Appendix B: ReLU's EOC is (σb, σw) = (0, √2); with σb > 0 q* diverges before χ reaches 1.
        var relu = ActivationFunctions.Get("relu");
        Assert.Equal(Math.Sqrt(2), EdgeOfChaos.SigmaW(relu, 0), 1e-12);
        Assert.Null(EdgeOfChaos.TryPoint(relu, 0.2));
        var e = Assert.Throws<InitPruneException>(() => EdgeOfChaos.SigmaW(relu, 0.2));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(1.0, EdgeOfChaos.SigmaW("tanh", 0), 1e-10);
    }

    [Fact]
    public void CurveIsIncreasingForTanhAndEveryPointHasChiOne()
    {
        var tanh = ActivationFunctions.Get("tanh");
        var curve = EdgeOfChaos.Curve(tanh, EdgeOfChaos.Range(0.05, 1.0, 8));
        for (var i = 1; i < curve.Length; i++) Assert.True(curve[i]!.SigmaW > curve[i - 1]!.SigmaW);
        foreach (var p in curve)
        {
            var m = new MeanFieldMap(tanh, p!.SigmaW, p.SigmaB);
            Assert.Equal(p.QStar, m.VarianceMap(p.QStar), 1e-10);
            Assert.Equal(1.0, m.Chi(p.QStar), 1e-10);
        }
    }
}
