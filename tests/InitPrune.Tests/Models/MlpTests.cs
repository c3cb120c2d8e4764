using InitPrune.Engine;
using InitPrune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Models;

public class MlpTests
{
    [Fact]
    public void LeNet300HasPyTorchNamesAndParameterCount()
    {
        using var model = ModelRegistry.Create(new ModelSpec("lenet300"), 784, 10);
        var names = model.named_parameters().Select(p => p.name).ToArray();
        Assert.Equal(["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias", "layers.4.weight", "layers.4.bias"], names);
        // 784·300 + 300 + 300·100 + 100 + 100·10 + 10
        Assert.Equal(266_610, model.parameters().Sum(p => p.numel()));
        Assert.Equal(["layers.0.weight", "layers.2.weight", "layers.4.weight"], Network.Prunable(model).Select(p => p.Name));
    }

    [Fact]
    public void ForwardEqualsHandComputedAffineMaps()
    {
        using var model = TestNets.Mlp(3, [4], 2, activation: "tanh");
        var x = randn(5, 3);
        var p = Network.StateDict(model);
        var expected = tanh(x.matmul(p["layers.0.weight"].t()) + p["layers.0.bias"]).matmul(p["layers.2.weight"].t()) + p["layers.2.bias"];
        Assert.True(model.forward(x).allclose(expected, rtol: 1e-5, atol: 1e-6));
        Assert.Equal([5L, 2L], model.forward(randn(5, 1, 1, 3)).shape);
    }

    [Fact]
    public void NoBiasBuildsNoBiasParameters()
    {
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Depth: 3, Width: 7, Bias: false), 5, 2);
        Assert.All(model.named_parameters(), p => Assert.EndsWith("weight", p.name));
        Assert.Equal(4, model.parameters().Count());
    }

    [Theory]
    [InlineData("densenet121")]
    [InlineData("")]
    public void UnknownModelIsAOneLineError(string name)
    {
        var e = Assert.Throws<InitPruneException>(() => ModelRegistry.Create(new ModelSpec(name), 4, 2));
        Assert.Contains("mlp", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ImpossibleShapesAndActivationsAreRejected()
    {
        Assert.Throws<InitPruneException>(() => ModelRegistry.Create(new ModelSpec("mlp", Depth: 2, Width: 0), 4, 2));
        var e = Assert.Throws<InitPruneException>(() => ModelRegistry.Create(new ModelSpec("mlp", Activation: "swishy"), 4, 2));
        Assert.Contains("tanh", e.Message);
    }

    [Fact]
    public void LoadStateDictRoundTripsAndRejectsWrongShapes()
    {
        using var a = TestNets.Mlp(4, [3], 2, seed: 1);
        using var b = TestNets.Mlp(4, [3], 2, seed: 2);
        Network.LoadStateDict(b, Network.StateDict(a), "test");
        Assert.True(TestNets.Same(b.forward(ones(1, 4)), a.forward(ones(1, 4))));
        using var c = TestNets.Mlp(5, [3], 2);
        var e = Assert.Throws<InitPruneException>(() => Network.LoadStateDict(c, Network.StateDict(a), "w.safetensors"));
        Assert.Contains("layers.0.weight", e.Message);
    }
}
