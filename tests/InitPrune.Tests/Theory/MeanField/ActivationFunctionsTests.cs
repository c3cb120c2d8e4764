using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Theory;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.MeanField;

public class ActivationFunctionsTests
{
    static readonly double[] Points = [-3.7, -1.2, -0.31, 0.05, 0.8, 2.9];

    public static TheoryData<string> Shared => [.. ActivationFunctions.Names.Where(n => Activations.Names.Contains(n))];

    [Theory]
    [MemberData(nameof(Shared))]
    public void PhiMatchesTheTorchSharpModuleOfTheSameName(string name)
    {
        using var module = Activations.Create(name);
        using var x = tensor(Points, dtype: ScalarType.Float64);
        using var y = module.call(x);
        var expected = y.data<double>().ToArray();
        var phi = ActivationFunctions.Get(name);
        for (var i = 0; i < Points.Length; i++) Assert.Equal(expected[i], phi.Phi(Points[i]), 1e-12);
    }

    [Theory]
    [MemberData(nameof(AllNames))]
    public void DPhiMatchesCentralDifferencesAwayFromKinks(string name)
    {
        var a = ActivationFunctions.Get(name);
        const double h = 1e-5;
        foreach (var x in Points.Where(p => a.Kinks.All(k => Math.Abs(p - k) > 10 * h)))
            Assert.Equal((a.Phi(x + h) - a.Phi(x - h)) / (2 * h), a.DPhi(x), 1e-8);
    }

    public static TheoryData<string> AllNames => [.. ActivationFunctions.Names];

    [Fact]
    public void UserRegisteredActivationIsUsedByTheMaps()
    {
        // φ(x) = x³ with σw = 1, σb = 0: q^1 = E[(√q Z)⁶] = 15 q³.
        var cube = ActivationFunctions.Register("cube_test", x => x * x * x, x => 3 * x * x);
        Assert.Same(cube, ActivationFunctions.Get("CUBE_TEST"));
        Assert.Equal(15 * Math.Pow(0.7, 3), new MeanFieldMap("cube_test", 1, 0).VarianceMap(0.7), 1e-12);
    }

    [Fact]
    public void UnknownActivationIsAOneLineUserError()
    {
        var e = Assert.Throws<InitPruneException>(() => ActivationFunctions.Get("swish9"));
        Assert.Contains("tanh", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
