using InitPrune.Engine;
using InitPrune.Models;

namespace InitPrune.Tests.Models;

/// <summary>The parameter count computed from a spec, before allocating, equals the built model's.</summary>
public class ModelSizeTests
{
    public static TheoryData<ModelSpec, long[], long> Specs => new()
    {
        { new ModelSpec("mlp", Depth: 3, Width: 7), [5], 2 },
        { new ModelSpec("mlp", Depth: 2, Width: 9, Bias: false, WidthMultiplier: 1.5), [1, 6, 6], 3 },
        { new ModelSpec("lenet300"), [1, 28, 28], 10 },
        { new ModelSpec("vcnn", Depth: 3, Width: 8), [1, 28, 28], 10 },
        { new ModelSpec("conv4"), [1, 28, 28], 10 },
        { new ModelSpec("conv8", WidthMultiplier: 0.25, Bias: false), [3, 32, 32], 100 },
        { new ModelSpec("vgg11"), [3, 32, 32], 10 },
        { new ModelSpec("vgg13-bn", WidthMultiplier: 0.25), [3, 32, 32], 100 },
        { new ModelSpec("3xvgg16-bn", WidthMultiplier: 0.125), [3, 32, 32], 10 },
        { new ModelSpec("resnet20"), [3, 32, 32], 10 },
        { new ModelSpec("resnet32", Shortcut: ShortcutKind.A, WidthMultiplier: 2), [3, 32, 32], 100 },
        { new ModelSpec("resnet20", WidthMultiplier: 0.25, Stable: true), [3, 64, 64], 200 },
    };

    [Theory]
    [MemberData(nameof(Specs))]
    public void The_count_from_the_spec_equals_the_built_models(ModelSpec spec, long[] sample, long outputs)
    {
        using var model = ModelRegistry.Create(spec, sample, outputs);
        Assert.Equal(ConvReference.ParameterCount(model), ModelRegistry.ParameterCount(spec, sample, outputs));
    }

    [Fact]
    public void An_invalid_spec_counts_nothing_and_building_it_says_why()
    {
        Assert.Equal(0, ModelRegistry.ParameterCount(new ModelSpec("vcnn", Depth: -3), [1, 28, 28], 10));
        Assert.Equal(0, ModelRegistry.ParameterCount(new ModelSpec("resnet21"), [3, 32, 32], 10));
        Assert.Contains("--depth", Assert.Throws<InitPruneException>(() => ModelRegistry.Create(new ModelSpec("vcnn", Depth: -3), [1, 28, 28], 10)).Message);
    }

    [Fact]
    public void A_model_larger_than_memory_is_refused_before_anything_is_allocated()
    {
        var e = Assert.Throws<InitPruneException>(() => ModelRegistry.Create(new ModelSpec("vcnn", Depth: 2, Width: 2_000_000_000), [1, 28, 28], 10));
        Assert.Equal(2, e.ExitCode);
        Assert.Contains("model 'vcnn'", e.Message);
        Assert.Contains("memory is available", e.Message);
    }
}
