using InitPrune.Engine;
using InitPrune.Theory;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.StrongTickets;

public class TicketBoundTests
{
    [Fact]
    public void TolerancesOfASmallDenseTargetAreTheHandComputedOnes()
    {
        // [2, 3, 1], ε = 0.1, L = 2. Main: ε₁ = ε/(2·√(3·3)·(1+3)·(1+ε/2)), ε₂ = ε/(2·√(1·4)·(1+1)).
        var target = TargetNetwork.Dense([2, 3, 1]);
        var main = ErrorPropagation.Tolerances(target, 0.1, TicketBoundVariant.MainText);
        Assert.Equal(0.1 / (2 * 3 * 4 * 1.05), main[0], 15);
        Assert.Equal(0.1 / (2 * 2 * 2), main[1], 15);
        // Appendix: √m_l and sup ‖x⁽ˡ⁻¹⁾‖₁: ε₁ = ε/(2·3·(1+2)·1.05), ε₂ = ε/(2·2·(1+3)).
        var appendix = ErrorPropagation.Tolerances(target, 0.1, TicketBoundVariant.Appendix);
        Assert.Equal(0.1 / (2 * 3 * 3 * 1.05), appendix[0], 15);
        Assert.Equal(0.1 / (2 * 2 * 4), appendix[1], 15);
    }

    [Fact]
    public void ParametersAreReadOffByHand()
    {
        double[,] w1 = { { 1, -2 }, { 0, 0.5 } }, w2 = { { 1, -1 } };
        var target = TargetNetwork.FromParameters([w1, w2], [[0.5, 0], [0.25]]);
        // Layer 1: in-degrees 3 and 1, 4 non-zeros, max |w| 2; interval bounds 3.5 and 0.5 (the true sup is 3.5).
        Assert.Equal(new TargetLayer(2, 3, 4, 2, 2, 4), target.Layers[0]);
        Assert.Equal(new TargetLayer(1, 3, 3, 1, 4, 3.75), target.Layers[1]);
        Assert.Equal([2.0, 0.0], ErrorPropagation.Forward([w1], [[0.5, 0]], [-0.5, -1]));
    }

    [Fact]
    public void Lemma4HoldsOnARandomBoundedTarget()
    {
        var random = new Random(3);
        int[] arch = [2, 6, 6, 1];
        var weights = Enumerable.Range(1, 3).Select(l => Matrix(arch[l], arch[l - 1], random)).ToList();
        var biases = Enumerable.Range(1, 3).Select(l => Enumerable.Range(0, arch[l]).Select(_ => 2 * random.NextDouble() - 1).ToArray()).ToList();
        var target = TargetNetwork.FromParameters(weights, biases);
        foreach (var variant in new[] { TicketBoundVariant.MainText, TicketBoundVariant.Appendix })
        {
            var tol = ErrorPropagation.Tolerances(target, 0.05, variant);
            Assert.InRange(ErrorPropagation.ShiftedError(weights, biases, tol, Grid2()), 1e-9, 0.05);
        }
    }

    [Fact]
    public void Lemma4FailsOnAWideLayerOfSmallWeights()
    {
        // f(x) = φ(Σᵢ φ(δx + δ)) with n = 200 hidden neurons: every neuron moves by 2ε₁ at x = 1 and the all-ones
        // layer adds the n moves up; ‖W‖_∞ = 1 cannot see that sum, so the error is n·(2δ + 2ε₁)(1 + ε₂) − 2nδ ≫ ε.
        const int n = 200;
        const double d = 1e-3, eps = 0.1;
        var w1 = new double[n, 1];
        var w2 = new double[1, n];
        for (int i = 0; i < n; i++) (w1[i, 0], w2[0, i]) = (d, 1);
        double[][] biases = [[.. Enumerable.Repeat(d, n)], [0]];
        var target = TargetNetwork.FromParameters([w1, w2], biases);
        foreach (var variant in new[] { TicketBoundVariant.MainText, TicketBoundVariant.Appendix })
        {
            var tol = ErrorPropagation.Tolerances(target, eps, variant);
            double error = ErrorPropagation.ShiftedError([w1, w2], biases, tol, Grid1());
            Assert.Equal(n * (2 * d + 2 * tol[0]) * (1 + tol[1]) - 2 * n * d, error, 12);
            Assert.True(error > 4 * eps, $"{variant}: error {error}");
        }
    }

    [Fact]
    public void TensorsAreReadInNumericLayerOrder()
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["layers.10.weight"] = tensor(new double[] { 5, 6 }, [1, 2]),
            ["layers.2.weight"] = tensor(new double[] { 1, 2, 3, 4 }, [2, 2]),
            ["layers.2.bias"] = tensor(new double[] { 0.5, -0.5 }),
        };
        var p = TargetParameters.FromTensors(tensors, "test");
        Assert.Equal(new double[,] { { 1, 2 }, { 3, 4 } }, p.Weights[0]);
        Assert.Equal(new double[,] { { 5, 6 } }, p.Weights[1]);
        Assert.Equal([0.5, -0.5], p.Biases[0]);
        Assert.Equal([0.0], p.Biases[1]);
        Assert.Throws<InitPruneException>(() => TargetParameters.FromTensors(new Dictionary<string, Tensor>(), "empty"));
    }

    [Fact]
    public void ProbeHoldsTheCornersAndSeededSamples()
    {
        var probe = ErrorPropagation.Probe(2, 3, 0).ToList();
        Assert.Equal(7, probe.Count);
        Assert.Equal([[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]], probe.Take(4));
        Assert.All(probe.Skip(4), x => Assert.All(x, v => Assert.InRange(v, -1, 1)));
        Assert.Equal(probe.Skip(4), ErrorPropagation.Probe(2, 3, 0).Skip(4));
    }

    [Fact]
    public void WidthsOfAOneNeuronTargetAreTheHandComputedOnes()
    {
        // [1, 1], ε = 0.1, δ = 0.05, C = 2: k = 2, m = 2, ε₁ = ε/(√2·2).
        var target = TargetNetwork.Dense([1, 1]);
        double eps1 = 0.1 / (Math.Sqrt(2) * 2);
        var main = TicketWidth.Compute(target, 0.1, 0.05, 2, TicketBoundVariant.MainText);
        Assert.Equal(Math.Log(2 / eps1), main.Layers[0].LogTerm, 12);
        Assert.Equal((long)Math.Ceiling(2 * Math.Log(2 / eps1)), main.Layers[0].WideWidth);
        Assert.Equal(9, main.Layers[0].WideWidth);
        Assert.Equal(2 * 9 + 10 * 1, main.MotherParameters);
        var appendix = TicketWidth.Compute(target, 0.1, 0.05, 2, TicketBoundVariant.Appendix);
        Assert.Equal(0.025, appendix.Layers[0].DeltaL, 15);
        Assert.Equal(Math.Log(40), appendix.Layers[0].LogTerm, 12);
        Assert.Equal(8, appendix.Layers[0].WideWidth);
        Assert.Equal(2, appendix.TargetParameters);
    }

    [Fact]
    public void WidthGrowsLogarithmicallyInOneOverEpsilon()
    {
        var target = TargetNetwork.Dense([4, 10, 1]);
        double Width(double eps) => TicketWidth.Compute(target, eps, 0.5, 1, TicketBoundVariant.Appendix).Layers[1].LogTerm;
        // Once ε_l < δ_l the log term is log(1/ε_l) with ε_l ∝ ε: ten times smaller ε adds exactly ln 10.
        Assert.Equal(Math.Log(10), Width(1e-6) - Width(1e-5), 10);
    }

    [Fact]
    public void ImpossibleHyperParametersAreUserErrors()
    {
        var target = TargetNetwork.Dense([2, 2]);
        Assert.Throws<InitPruneException>(() => TicketWidth.Compute(target, 1.5, 0.1, 1, TicketBoundVariant.MainText));
        Assert.Throws<InitPruneException>(() => TicketWidth.Compute(target, 0.1, 0, 1, TicketBoundVariant.MainText));
        Assert.Throws<InitPruneException>(() => TicketWidth.Compute(target, 0.1, 0.1, -1, TicketBoundVariant.MainText));
        Assert.Throws<InitPruneException>(() => TargetNetwork.Dense([2]));
        Assert.Throws<InitPruneException>(() => TargetNetwork.Dense([2, -3]));
    }

    static double[,] Matrix(int rows, int cols, Random random)
    {
        var m = new double[rows, cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) m[i, j] = 2 * random.NextDouble() - 1;
        return m;
    }

    static IEnumerable<double[]> Grid1() => Enumerable.Range(0, 401).Select(i => new[] { -1 + i / 200.0 });

    static IEnumerable<double[]> Grid2()
    {
        for (int i = 0; i <= 40; i++)
            for (int j = 0; j <= 40; j++) yield return [-1 + i / 20.0, -1 + j / 20.0];
    }
}
