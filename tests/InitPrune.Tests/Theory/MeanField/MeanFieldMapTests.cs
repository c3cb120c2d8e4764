using InitPrune.Engine;
using InitPrune.Theory;
using MathNet.Numerics;

namespace InitPrune.Tests.Theory.MeanField;

public class MeanFieldMapTests
{
    static double Cdf(double x) => 0.5 * SpecialFunctions.Erfc(-x / Constants.Sqrt2);

    [Theory]
    [InlineData(-0.9)]
    [InlineData(-0.3)]
    [InlineData(0.0)]
    [InlineData(0.4)]
    [InlineData(0.95)]
    [InlineData(1.0)]
    public void ReluMapsMatchTheirClosedForms(double c)
    {
        // Seed 001 Appendix B.1.1: for ReLU, q^l = σb² + σw² q/2 and, at σw = √2, σb = 0, f is the arc-cosine map.
        var m = new MeanFieldMap("relu", Math.Sqrt(2), 0);
        Assert.Equal(Propagation.ReluCorrelation(c), m.CorrelationMap(c, 1.7), 1e-11);
        var m2 = new MeanFieldMap("relu", 1.3, 0.4);
        Assert.Equal(0.16 + 1.69 * 2.2 / 2, m2.VarianceMap(2.2), 1e-12);
        Assert.Equal(1.69 / 2, m2.Chi(2.2), 1e-13);
    }

    [Fact]
    public void ReluCorrelationExpansionNearOne()
    {
        // Seed 001 Appendix B.1.4: f(x) = x + (2√2/(3π))(1 − x)^{3/2} + O((1 − x)^{5/2}).
        var m = new MeanFieldMap("relu", Math.Sqrt(2), 0);
        var beta = 2 * Math.Sqrt(2) / (3 * Math.PI);
        foreach (var eps in new[] { 1e-2, 1e-3, 1e-4 })
        {
            var x = 1 - eps;
            var remainder = m.CorrelationMap(x, 1) - x - beta * Math.Pow(eps, 1.5);
            Assert.InRange(Math.Abs(remainder) / Math.Pow(eps, 2.5), 0, 0.1);
        }
    }

    [Fact]
    public void EluChiAndVarianceMatchErfcClosedForms()
    {
        // E[elu′(√qZ)²] = 1/2 + e^{2q}Φ(−2√q); E[elu(√qZ)²] = q/2 + e^{2q}Φ(−2√q) − 2e^{q/2}Φ(−√q) + 1/2.
        var m = new MeanFieldMap("elu", 1.2, 0.3);
        foreach (var q in new[] { 0.05, 0.8, 3.0 })
        {
            var r = Math.Sqrt(q);
            var a = Math.Exp(2 * q) * Cdf(-2 * r);
            Assert.Equal(1.44 * (0.5 + a), m.Chi(q), 1e-12);
            Assert.Equal(0.09 + 1.44 * (q / 2 + a - 2 * Math.Exp(q / 2) * Cdf(-r) + 0.5), m.VarianceMap(q), 1e-12);
        }
    }

    [Theory]
    [InlineData("tanh", 1.1, 0.3)]
    [InlineData("tanh", 2.0, 0.1)]
    [InlineData("elu", 1.3, 0.2)]
    public void ChiIsTheSlopeOfTheCorrelationMapAtOne(string activation, double sigmaW, double sigmaB)
    {
        // χ = f′(1): a one-sided finite difference with Richardson extrapolation (f is analytic up to c = 1 here).
        var m = new MeanFieldMap(activation, sigmaW, sigmaB);
        var q = m.FixedPointQ()!.Value;
        double D(double h) => (m.CorrelationMap(1, q) - m.CorrelationMap(1 - h, q)) / h;
        var extrapolated = 2 * D(1e-4) - D(2e-4);
        Assert.Equal(m.Chi(q), extrapolated, 2e-5);
        Assert.Equal(1.0, m.CorrelationMap(1, q), 1e-12);
        Assert.Equal(m.Chi(q), m.CorrelationMapDerivative(1, q), 1e-12);
    }

    [Fact]
    public void DerivativesMatchCentralDifferences()
    {
        var m = new MeanFieldMap("tanh", 1.6, 0.25);
        const double h = 1e-4;
        Assert.Equal((m.VarianceMap(0.9 + h) - m.VarianceMap(0.9 - h)) / (2 * h), m.VarianceMapDerivative(0.9), 1e-7);
        Assert.Equal((m.CorrelationMap(0.3 + h, 0.9) - m.CorrelationMap(0.3 - h, 0.9)) / (2 * h), m.CorrelationMapDerivative(0.3, 0.9), 1e-7);
    }

    [Fact]
    public void FixedPointsOfReluAreClosedForm()
    {
        // q* = σb² / (1 − σw²/2) for σw² < 2; V′ = σw²/2 = 0.995 exercises the slow-convergence path.
        Assert.Equal(0.25 / 0.5, new MeanFieldMap("relu", 1, 0.5).FixedPointQ()!.Value, 1e-12);
        Assert.Equal(0.01 / 0.005, new MeanFieldMap("relu", Math.Sqrt(1.99), 0.1).FixedPointQ()!.Value, 1e-9);
        Assert.Null(new MeanFieldMap("relu", 1.5, 0).FixedPointQ());
        Assert.Null(new MeanFieldMap("relu", Math.Sqrt(2), 0.01).FixedPointQ());
        Assert.Equal(3.0, new MeanFieldMap("relu", Math.Sqrt(2), 0).FixedPointQ(3.0)!.Value, 1e-12);
        // tanh with σb = 0 on its EOC (σw = 1): q^l decays like 1/l to q* = 0.
        Assert.Equal(0.0, new MeanFieldMap("tanh", 1, 0).FixedPointQ()!.Value, 1e-6);
    }

    [Fact]
    public void TanhFixedPointIsFixedAndReachedByIteration()
    {
        var m = new MeanFieldMap("tanh", 1.7, 0.4);
        var q = m.FixedPointQ()!.Value;
        Assert.Equal(q, m.VarianceMap(q), 1e-12);
        var x = 5.0;
        for (var i = 0; i < 300; i++) x = m.VarianceMap(x);
        Assert.Equal(q, x, 1e-10);
    }

    [Fact]
    public void PhasesFollowChi()
    {
        var eoc = EdgeOfChaos.SigmaW("tanh", 0.2);
        Assert.Equal(Phase.EdgeOfChaos, new MeanFieldMap("tanh", eoc, 0.2).Phase());
        Assert.Equal(Phase.Ordered, new MeanFieldMap("tanh", eoc - 0.05, 0.2).Phase());
        Assert.Equal(Phase.Chaotic, new MeanFieldMap("tanh", eoc + 0.05, 0.2).Phase());
        Assert.Equal(Phase.Divergent, new MeanFieldMap("relu", 1.5, 0).Phase());
        Assert.Equal(Phase.EdgeOfChaos, new MeanFieldMap("relu", Math.Sqrt(2), 0).Phase());
    }

    [Fact]
    public void DepthScalesMatchTheObservedConvergenceRates()
    {
        // Schoenholz et al. (2017): |q^l − q*| ~ e^{−l/ξ_q}, |c^l − c*| ~ e^{−l/ξ_c}; measured on the maps themselves.
        var ordered = new MeanFieldMap("tanh", 1.0, 0.3);
        var d = ordered.DepthScales();
        Assert.Equal(-1 / Math.Log(ordered.Chi(d.QStar)), d.XiC, 1e-12);
        double q1 = d.QStar + 1e-4, q2 = ordered.VarianceMap(q1);
        Assert.Equal(d.XiQ, -1 / Math.Log((q2 - d.QStar) / (q1 - d.QStar)), 1e-3 * d.XiQ);

        var chaotic = new MeanFieldMap("tanh", 2.5, 0.3);
        var dc = chaotic.DepthScales();
        Assert.InRange(dc.CStar, 0.01, 0.99);
        Assert.Equal(dc.CStar, chaotic.CorrelationMap(dc.CStar, dc.QStar), 1e-10);
        double c1 = dc.CStar + 1e-4, c2 = chaotic.CorrelationMap(c1, dc.QStar);
        Assert.Equal(dc.XiC, -1 / Math.Log((c2 - dc.CStar) / (c1 - dc.CStar)), 1e-3 * dc.XiC);
        Assert.Equal(double.PositiveInfinity, new MeanFieldMap("tanh", EdgeOfChaos.SigmaW("tanh", 0.2), 0.2).DepthScales().XiC);
    }

    [Theory]
    [InlineData(0.0, 0.1)]
    [InlineData(-1.0, 0.1)]
    [InlineData(1.0, -0.1)]
    [InlineData(double.NaN, 0.1)]
    public void ImpossibleHyperParametersAreUserErrors(double sigmaW, double sigmaB)
    {
        var e = Assert.Throws<InitPruneException>(() => new MeanFieldMap("tanh", sigmaW, sigmaB));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Throws<InitPruneException>(() => new MeanFieldMap("tanh", 1, 0).CorrelationMap(1.5, 1));
        Assert.Throws<InitPruneException>(() => new MeanFieldMap("relu", 2, 0).Chi());
    }
}
