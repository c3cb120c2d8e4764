using InitPrune.Engine;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Tests.Models;

public class MaskedConv2dTests
{
    [Theory]
    [InlineData(1, 1, "zeros")]
    [InlineData(2, 1, "zeros")]
    [InlineData(1, 1, "circular")]
    [InlineData(2, 2, "circular")]
    [InlineData(1, 0, "zeros")]
    public void ForwardEqualsTheDefinition(long stride, long padding, string mode)
    {
        using var conv = new MaskedConv2d(3, 4, 3, stride, padding, mode);
        ConvReference.Randomize(conv, seed: 3);
        var x = randn([2, 3, 6, 5], generator: new TorchSharp.torch.Generator(7));
        var expected = ConvReference.Conv2d(x, conv.weight, conv.bias, stride, padding, mode == "circular");
        var y = conv.forward(x);
        Assert.Equal(expected.shape, y.shape);
        Assert.True(y.allclose(expected, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void HasPyTorchLayoutFanInAndMask()
    {
        using var conv = new MaskedConv2d(3, 8, 5, hasBias: false);
        Assert.Equal([8L, 3, 5, 5], conv.weight.shape);
        Assert.Null(conv.bias);
        Assert.Equal(75, conv.FanIn);
        ConvReference.Randomize(conv);
        var mask = rand([8, 3, 5, 5], generator: new TorchSharp.torch.Generator(1)).gt(0.5);
        conv.SetMask(mask);
        Assert.True(conv.weight.eq(0).logical_or(mask).all().item<bool>());
        Assert.Equal(mask.sum().item<long>(), conv.weight.ne(0).sum().item<long>());
        Assert.Equal(["weight"], conv.named_parameters().Select(p => p.name));
    }

    [Fact]
    public void ImpossibleConvolutionsAreOneLineErrors()
    {
        foreach (var make in new Action[]
        {
            () => _ = new MaskedConv2d(0, 4, 3),
            () => _ = new MaskedConv2d(3, 4, 3, stride: 0),
            () => _ = new MaskedConv2d(3, 4, 3, padding: -1),
            () => _ = new MaskedConv2d(3, 4, 3, paddingMode: "reflect"),
        })
        {
            var e = Assert.Throws<InitPruneException>(make);
            Assert.DoesNotContain('\n', e.Message);
        }
    }
}
