using InitPrune.Engine;
using InitPrune.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Tests.Models;

public class ConvModelTests
{
    static readonly long[] Cifar = [3, 32, 32];
    static readonly long[] Mnist = [1, 28, 28];

    /// <summary>
    /// CIFAR ResNet-(6n+2), option A, 10 classes, by hand: stem conv 3·16·9 + BN 2·16; stage 1: 2n convs 16·16·9 and
    /// 2n BN of 2·16; stage 2: 16·32·9 + (2n−1)·32·32·9 and 2n BN of 2·32; stage 3: 32·64·9 + (2n−1)·64·64·9 and
    /// 2n BN of 2·64; fc 64·10 + 10. Option B adds the 1×1 shortcuts 16·32 + 32·64 and their BN 2·32 + 2·64.
    /// </summary>
    static long ResNetCount(int n, bool optionB) =>
        432 + 32 + 2 * n * (2304 + 32) + 4608 + (2 * n - 1) * 9216 + 2 * n * 64 + 18432 + (2 * n - 1) * 36864
        + 2 * n * 128 + 650 + (optionB ? 2560 + 192 : 0);

    [Theory]
    [InlineData("resnet20", 269_722)] // the standard 0.27M
    [InlineData("resnet32", 464_154)] // 0.46M
    [InlineData("resnet56", 853_018)] // 0.85M
    [InlineData("resnet110", 1_727_962)] // 1.7M
    public void ResNetOptionAHasTheStandardParameterCounts(string name, long expected)
    {
        using var model = ModelRegistry.Create(new ModelSpec(name, Shortcut: ShortcutKind.A), Cifar, 10);
        Assert.Equal(expected, ResNetCount((int.Parse(name[6..]) - 2) / 6, optionB: false));
        Assert.Equal(expected, ConvReference.ParameterCount(model));
    }

    [Theory]
    [InlineData("resnet20", 3)]
    [InlineData("resnet50", 8)]
    [InlineData("resnet104", 17)]
    public void ResNetOptionBAddsTheProjectionShortcuts(string name, int n)
    {
        using var model = ModelRegistry.Create(new ModelSpec(name), Cifar, 10);
        Assert.Equal(ResNetCount(n, optionB: true), ConvReference.ParameterCount(model));
    }

    [Fact]
    public void WidthMultiplierDoublesEveryFilter()
    {
        using var model = ModelRegistry.Create(new ModelSpec("resnet32", WidthMultiplier: 2), Cifar, 100);
        // n = 5, filters 32/64/128: stem 3·32·9 + 64; stage s (width c_s, input c_{s−1}): first conv c_{s−1}·c_s·9,
        // then 9 convs c_s²·9, 10 BN of 2c_s; option B shortcuts 32·64 + 64·128 + BN 2·64 + 2·128; fc 128·100 + 100.
        long expected = 864 + 64
            + 32 * 32 * 9 + 9 * 32 * 32 * 9 + 10 * 64
            + 32 * 64 * 9 + 9 * 64 * 64 * 9 + 10 * 128
            + 64 * 128 * 9 + 9 * 128 * 128 * 9 + 10 * 256
            + 32 * 64 + 64 * 128 + 128 + 256
            + 12_900;
        Assert.Equal(expected, ConvReference.ParameterCount(model));
    }

    // Conv weights of VGG16 (configuration D): 3·64·9 + 64·64·9 + 64·128·9 + 128·128·9 + 128·256·9 + 2·256·256·9
    // + 256·512·9 + 5·512·512·9 = 14,710,464; conv biases 2·64 + 2·128 + 3·256 + 6·512 = 4,224; fc 512·10 + 10.
    [Theory]
    [InlineData("vgg11", 9_217_728 + 2_752 + 5_130)]
    [InlineData("vgg13", 9_402_048 + 2_944 + 5_130)]
    [InlineData("vgg16", 14_710_464 + 4_224 + 5_130)] // 14.7M
    [InlineData("vgg16-bn", 14_710_464 + 4_224 + 2 * 4_224 + 5_130)]
    [InlineData("vgg19", 20_018_880 + 5_504 + 5_130)]
    // 3xVGG16: blocks of 6, 6, 9, 9, 9 convs: 1,728 + 5·36,864 + 73,728 + 5·147,456 + 294,912 + 8·589,824
    // + 1,179,648 + 8·2,359,296 + 9·2,359,296 = 47,298,240 weights; biases 6·64 + 6·128 + 9·256 + 18·512 = 12,672.
    [InlineData("3xvgg16", 47_298_240 + 12_672 + 5_130)]
    // Seed 002's VGG-5: convs 3·64·9 + 64·128·9 + 128·256·9 + 256·512·9 = 1,550,016, biases 960. VGG-15 (blocks 2, 4, 4, 4):
    // 38,592 + 516,096 + 2,064,384 + 8,257,536 = 10,876,608 weights, biases 2·64 + 4·128 + 4·256 + 4·512 = 3,712.
    [InlineData("vgg5", 1_550_016 + 960 + 5_130)]
    [InlineData("vgg15", 10_876_608 + 3_712 + 5_130)]
    [InlineData("vgg15-bn", 10_876_608 + 3_712 + 2 * 3_712 + 5_130)]
    public void VggHasTheHandCountedParameters(string name, long expected)
    {
        using var model = ModelRegistry.Create(new ModelSpec(name), Cifar, 10);
        Assert.Equal(expected, ConvReference.ParameterCount(model));
    }

    // Seed 002 App. G.6, as printed: L = 5: [64, MP, 128, MP, 256, MP, 512, MP, FC]; 15: [[64]*2, [128]*4, [256]*4, [512]*4];
    // 25: [[64]*3, [128]*7, [256]*7, [512]*7]; 35: [[64]*4, [128]*10, [256]*10, [512]*10] (the FC layer counted in L).
    [Theory]
    [InlineData(5, 1, 1)]
    [InlineData(15, 2, 4)]
    [InlineData(25, 3, 7)]
    [InlineData(35, 4, 10)]
    public void Seed_002_vgg_of_depth_l_has_the_printed_blocks(int depth, int first, int rest)
    {
        var plan = Vgg.Plan(depth);
        Assert.Equal([64L, 128, 256, 512], plan.Select(b => b.Distinct().Single()));
        Assert.Equal([first, rest, rest, rest], plan.Select(b => b.Length));
        Assert.Equal(depth - 1, plan.Sum(b => b.Length));
        Assert.Equal($"vgg{depth}-bn", ModelRegistry.Resolve($"VGG{depth}-BN"));
    }

    // Conv-n weights on 32×32 (the edge-popup paper's 4.3M, 2.4M, 2.3M, 5.3M): convs 3·64·9 + 64·64·9 = 38,592,
    // + 64·128·9 + 128·128·9 = 221,184, + 128·256·9 + 256·256·9 = 884,736, + 256·512·9 + 512·512·9 = 3,538,944;
    // linear (C·H·W)·256 + 256·256 + 256·10 with C·H·W = 16,384, 8,192, 4,096, 2,048.
    [Theory]
    [InlineData("conv2", 38_592 + 16_384 * 256 + 68_096)]
    [InlineData("conv4", 38_592 + 221_184 + 8_192 * 256 + 68_096)]
    [InlineData("conv6", 38_592 + 221_184 + 884_736 + 4_096 * 256 + 68_096)]
    [InlineData("Conv-8", 38_592 + 221_184 + 884_736 + 3_538_944 + 2_048 * 256 + 68_096)]
    public void ConvNHasTheHandCountedWeights(string name, long expected)
    {
        using var model = ModelRegistry.Create(new ModelSpec(name, Bias: false), Cifar, 10);
        Assert.Equal(expected, ConvReference.ParameterCount(model));
    }

    [Fact]
    public void ConvNForwardIsConvPairsWithMaxPoolingThenThreeLinearLayers()
    {
        using var model = ModelRegistry.Create(new ModelSpec("conv4", WidthMultiplier: 1.0 / 16), [1, 7, 6], 3);
        ConvReference.Randomize(model, seed: 3);
        var p = Network.StateDict(model);
        Assert.Equal(["layers.0.weight", "layers.2.weight", "layers.5.weight", "layers.7.weight", "classifier.0.weight", "classifier.2.weight", "classifier.4.weight"],
            Network.Prunable(model).Select(t => t.Name));
        var x = randn([2, 1, 7, 6], generator: new TorchSharp.torch.Generator(4));
        var h = ConvReference.Conv2d(x, p["layers.0.weight"], p["layers.0.bias"], 1, 1, circular: false).relu();
        h = ConvReference.Conv2d(h, p["layers.2.weight"], p["layers.2.bias"], 1, 1, circular: false).relu();
        h = h[.., .., ..6, ..6].reshape(2, 4, 3, 2, 3, 2).amax([3, 5]);
        h = ConvReference.Conv2d(h, p["layers.5.weight"], p["layers.5.bias"], 1, 1, circular: false).relu();
        h = ConvReference.Conv2d(h, p["layers.7.weight"], p["layers.7.bias"], 1, 1, circular: false).relu();
        h = h[.., .., ..2, ..2].reshape(2, 8, 1, 2, 1, 2).amax([3, 5]).flatten(1);
        foreach (int i in new[] { 0, 2, 4 })
        {
            h = h.matmul(p[$"classifier.{i}.weight"].t()) + p[$"classifier.{i}.bias"];
            if (i < 4) h = h.relu();
        }
        Assert.True(model.forward(x).allclose(h, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void ConvNOnImagesTooSmallForItsPoolingIsAOneLineError()
    {
        var e = Assert.Throws<InitPruneException>(() => ModelRegistry.Create(new ModelSpec("conv8"), [1, 8, 8], 10));
        Assert.Contains("leaves no pixel", e.Message);
        Assert.Equal(0, ModelRegistry.ParameterCount(new ModelSpec("conv8"), [1, 8, 8], 10));
    }

    [Fact]
    public void VanillaCnnHasTheHandCountedParametersAndRunsOnMnist()
    {
        using var model = ModelRegistry.Create(new ModelSpec("vcnn", Depth: 10, Width: 32, Padding: "circular"), Mnist, 10);
        // 1·32·9 + 32, then 9 × (32·32·9 + 32), fc 32·10 + 10.
        Assert.Equal(320 + 9 * 9_248 + 330, ConvReference.ParameterCount(model));
        ConvReference.Randomize(model);
        Assert.Equal([2L, 10], model.forward(randn(2, 1, 28, 28)).shape);
    }

    [Fact]
    public void VanillaCnnForwardIsConvolutionsThenGlobalMeanThenLinear()
    {
        using var model = ModelRegistry.Create(new ModelSpec("vcnn", Widths: [4, 5], Activation: "tanh", Padding: "circular"), [2, 5, 6], 3);
        ConvReference.Randomize(model, seed: 5);
        var p = Network.StateDict(model);
        var x = randn([2, 2, 5, 6], generator: new TorchSharp.torch.Generator(9));
        var h = ConvReference.Conv2d(x, p["layers.0.weight"], p["layers.0.bias"], 1, 1, circular: true).tanh();
        h = ConvReference.Conv2d(h, p["layers.2.weight"], p["layers.2.bias"], 1, 1, circular: true).tanh();
        var expected = h.mean([2, 3]).matmul(p["fc.weight"].t()) + p["fc.bias"];
        Assert.True(model.forward(x).allclose(expected, rtol: 1e-4, atol: 1e-5));
    }

    [Theory]
    [InlineData("vgg16", "relu")]
    [InlineData("vgg11-bn", "elu")]
    [InlineData("resnet20", "tanh")]
    [InlineData("resnet32", "relu")]
    public void ForwardRunsOnCifarWithEveryActivation(string name, string activation)
    {
        using var model = ModelRegistry.Create(new ModelSpec(name, Activation: activation), Cifar, 10);
        ConvReference.Randomize(model);
        using var y = model.forward(randn(2, 3, 32, 32));
        Assert.Equal([2L, 10], y.shape);
        Assert.True(y.isfinite().all().item<bool>());
        var expectedType = activation switch { "relu" => typeof(ReLU), "elu" => typeof(ELU), _ => typeof(Tanh) };
        Assert.Contains(model.modules(), m => m.GetType() == expectedType);
    }

    [Fact]
    public void PrunableListsConvAndLinearWeightsInForwardOrderWithPyTorchNames()
    {
        using var vgg = ModelRegistry.Create(new ModelSpec("vgg11-bn"), Cifar, 10);
        // Plan 64 M 128 M 256 256 M 512 512 M 512 512: the max-pools take indices 1, 3, 6, 9.
        Assert.Equal(
            ["layers.0.conv.weight", "layers.2.conv.weight", "layers.4.conv.weight", "layers.5.conv.weight", "layers.7.conv.weight",
             "layers.8.conv.weight", "layers.10.conv.weight", "layers.11.conv.weight", "fc.weight"],
            Network.Prunable(vgg).Select(t => t.Name));
        Assert.Contains("layers.0.bn.weight", Network.StateDict(vgg).Keys);

        using var resnet = ModelRegistry.Create(new ModelSpec("resnet8"), Cifar, 10);
        Assert.Equal(
            ["conv.weight", "blocks.0.conv1.weight", "blocks.0.conv2.weight", "blocks.1.conv1.weight", "blocks.1.conv2.weight",
             "blocks.1.shortcut.0.weight", "blocks.2.conv1.weight", "blocks.2.conv2.weight", "blocks.2.shortcut.0.weight", "fc.weight"],
            Network.Prunable(resnet).Select(t => t.Name));
        Assert.Equal(
            ["conv.weight", "bn.weight", "bn.bias", "blocks.0.conv1.weight", "blocks.0.bn1.weight", "blocks.0.bn1.bias"],
            resnet.named_parameters().Take(6).Select(p => p.name));
        Assert.Contains("blocks.1.shortcut.1.weight", Network.StateDict(resnet).Keys);

        // Same order as the parameters themselves (depth-first, as PyTorch lists them), on a deep net too.
        using var deep = ModelRegistry.Create(new ModelSpec("resnet56"), Cifar, 10);
        var prunable = Network.Prunable(deep).Select(t => t.Name).ToList();
        Assert.Equal(58, prunable.Count); // stem + 54 block convs + 2 projection shortcuts (option B) + fc
        Assert.Equal(2, prunable.Count(n => n.Contains("shortcut")));
        Assert.Equal(deep.named_parameters().Select(p => p.name).Where(prunable.Contains), prunable);
    }

    [Fact]
    public void BatchNormStartsAtUnitScaleAndZeroShift()
    {
        using var model = ModelRegistry.Create(new ModelSpec("resnet8"), Cifar, 10);
        var bn = model.named_parameters().Where(p => p.name.Contains("bn") || p.name.Contains("shortcut.1")).ToList();
        Assert.NotEmpty(bn);
        Assert.All(bn, p => Assert.True(p.parameter.eq(p.name.EndsWith("weight") ? 1 : 0).all().item<bool>(), p.name));
    }

    [Fact]
    public void StableBlockOutputIsShortcutPlusBranchOverRootB()
    {
        using var model = ModelRegistry.Create(new ModelSpec("resnet8", Stable: true, Shortcut: ShortcutKind.A), [3, 6, 6], 4);
        Assert.Equal(3, ((ResNet)model).BlockCount);
        ConvReference.Randomize(model, seed: 11);
        var p = Network.StateDict(model);
        var blocks = model.named_modules().Where(m => m.module is BasicBlock).Select(m => (BasicBlock)m.module).ToList();
        Assert.Equal(3, blocks.Count);
        var x = randn([2, 16, 6, 6], generator: new TorchSharp.torch.Generator(4));
        // Branch by hand: conv → BN (batch statistics) → ReLU → conv → BN; identity shortcut; B = 3 blocks.
        var h = ConvReference.BatchNorm(ConvReference.Conv2d(x, p["blocks.0.conv1.weight"], null, 1, 1, false)).relu();
        var branch = ConvReference.BatchNorm(ConvReference.Conv2d(h, p["blocks.0.conv2.weight"], null, 1, 1, false));
        var expected = (x + branch / Math.Sqrt(3)).relu();
        Assert.True(blocks[0].forward(x).allclose(expected, rtol: 1e-4, atol: 1e-4));

        using var plain = ModelRegistry.Create(new ModelSpec("resnet8", Shortcut: ShortcutKind.A), [3, 6, 6], 4);
        Assert.All(plain.modules().OfType<BasicBlock>(), b => Assert.Equal(1.0, b.BranchScale));
        using var resnet32 = ModelRegistry.Create(new ModelSpec("resnet32", Stable: true), Cifar, 10);
        Assert.All(resnet32.modules().OfType<BasicBlock>(), b => Assert.Equal(1 / Math.Sqrt(15), b.BranchScale, 12));
    }

    [Fact]
    public void OptionAShortcutSubsamplesAndPadsChannelsWithZeros()
    {
        using var model = ModelRegistry.Create(new ModelSpec("resnet8", Shortcut: ShortcutKind.A), Cifar, 10);
        var block = model.modules().OfType<BasicBlock>().ElementAt(1); // 16 → 32 channels, stride 2
        var x = randn(2, 16, 6, 6);
        var s = block.Shortcut(x);
        Assert.Equal([2L, 32, 3, 3], s.shape);
        var xs = x.data<float>().ToArray();
        var ss = s.data<float>().ToArray();
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 32; c++)
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++)
                    {
                        float expected = c is >= 8 and < 24 ? xs[((n * 16 + c - 8) * 6 + 2 * i) * 6 + 2 * j] : 0f;
                        Assert.Equal(expected, ss[((n * 32 + c) * 3 + i) * 3 + j]);
                    }
    }

    [Theory]
    [InlineData("vgg12")]
    [InlineData("resnet21")]
    [InlineData("resnet2")]
    [InlineData("alexnet")]
    public void UnknownArchitecturesAreOneLineErrors(string name)
    {
        var e = Assert.Throws<InitPruneException>(() => ModelRegistry.Create(new ModelSpec(name), Cifar, 10));
        Assert.StartsWith($"unknown model '{name}'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ImpossibleSpecsAreOneLineErrors()
    {
        var cases = new (ModelSpec Spec, long[] Shape, string Hint)[]
        {
            (new ModelSpec("vgg16", Stable: true), Cifar, "ResNets only"),
            (new ModelSpec("resnet20", WidthMultiplier: -1), Cifar, "multiplier"),
            (new ModelSpec("resnet20", WidthMultiplier: 0.01), Cifar, "multiplier"),
            (new ModelSpec("vcnn", Padding: "reflect"), Mnist, "circular"),
            (new ModelSpec("vcnn", Depth: 0), Mnist, "--depth"),
            (new ModelSpec("vcnn", Depth: -3), Mnist, "--depth"),
            (new ModelSpec("vcnn", Width: 0), Mnist, "--width"),
            (new ModelSpec("resnet20"), [784], "image"),
        };
        foreach (var (spec, shape, hint) in cases)
        {
            var e = Assert.Throws<InitPruneException>(() => ModelRegistry.Create(spec, shape, 10));
            Assert.Contains(hint, e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public void MlpAcceptsImageShapesAndTheMultiplier()
    {
        using var model = ModelRegistry.Create(new ModelSpec("lenet300", WidthMultiplier: 0.5), Mnist, 10);
        // 784·150 + 150 + 150·50 + 50 + 50·10 + 10
        Assert.Equal(125_810, ConvReference.ParameterCount(model));
    }
}
