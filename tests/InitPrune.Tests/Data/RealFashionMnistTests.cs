using System.Diagnostics;
using InitPrune.Data;
using TorchSharp;

namespace InitPrune.Tests.Data;

public class RealFashionMnistTests
{
    const string Folder = "/usr/share/datasets/fashion-mnist";

    [Fact]
    public void LoadsTheInstalledFashionMnist()
    {
        if (!Directory.Exists(Folder))
            Assert.Fail($"{Folder} is missing: install the real Fashion-MNIST with 'sudo apt-get install dataset-fashion-mnist'");
        var clock = Stopwatch.StartNew();
        using var split = DatasetRegistry.Load("fashion-mnist", Folder);
        var seconds = clock.Elapsed.TotalSeconds;

        Assert.Equal(Folder, split.Source);
        Assert.Equal([60000L, 1, 28, 28], split.Train.Inputs.shape);
        Assert.Equal([10000L, 1, 28, 28], split.Test.Inputs.shape);
        Assert.Equal((10, 784L), (split.Train.NumClasses, split.Train.InputSize));
        var (nominalShape, nominalOutputs) = DatasetRegistry.NominalShape("fashion-mnist");
        Assert.Equal(split.Train.SampleShape, nominalShape);
        Assert.Equal(10L, nominalOutputs);
        Assert.Equal(Enumerable.Repeat(6000L, 10), torch.bincount(split.Train.Targets).data<long>().ToArray());
        Assert.Equal(Enumerable.Repeat(1000L, 10), torch.bincount(split.Test.Targets).data<long>().ToArray());
        Assert.InRange(split.Train.Inputs.mean().item<float>(), -0.01f, 0.01f);
        Assert.InRange(split.Train.Inputs.std().item<float>(), 0.98f, 1.02f);
        Assert.True(seconds < 20, $"loading took {seconds:F1} s");
    }
}
