using InitPrune.Data;
using TorchSharp;

namespace InitPrune.Tests.Data;

public class IdxReaderTests
{
    [Fact]
    public void ReadsRawAndGzippedFilesExactly()
    {
        using var dir = new TempDir();
        var pixels = DataFiles.Pixels(0, 3, 6);
        var labels = new byte[] { 4, 0, 9 };
        File.WriteAllBytes(dir.File("img"), DataFiles.IdxImages(3, 2, 3, pixels));
        File.WriteAllBytes(dir.File("img.gz"), DataFiles.Gzip(DataFiles.IdxImages(3, 2, 3, pixels)));
        File.WriteAllBytes(dir.File("lbl"), DataFiles.IdxLabels(labels));
        File.WriteAllBytes(dir.File("lbl.gz"), DataFiles.Gzip(DataFiles.IdxLabels(labels)));
        foreach (var name in new[] { "img", "img.gz" })
        {
            var (p, count, rows, cols) = IdxReader.ReadImages(dir.File(name));
            Assert.Equal((3, 2, 3), (count, rows, cols));
            Assert.Equal(pixels, p);
        }
        Assert.Equal(labels, IdxReader.ReadLabels(dir.File("lbl")));
        Assert.Equal(labels, IdxReader.ReadLabels(dir.File("lbl.gz")));
    }

    [Fact]
    public void DetectsGzipByMagicNotExtension()
    {
        using var dir = new TempDir();
        var labels = new byte[] { 1, 2, 3 };
        File.WriteAllBytes(dir.File("gzipped-without-suffix"), DataFiles.Gzip(DataFiles.IdxLabels(labels)));
        File.WriteAllBytes(dir.File("raw-with-suffix.gz"), DataFiles.IdxLabels(labels));
        Assert.Equal(labels, IdxReader.ReadLabels(dir.File("gzipped-without-suffix")));
        Assert.Equal(labels, IdxReader.ReadLabels(dir.File("raw-with-suffix.gz")));
    }

    [Theory]
    [InlineData("fashion-mnist", 0.2860, 0.3530)]
    [InlineData("mnist", 0.1307, 0.3081)]
    public void LoadsMnistLikeFolderNormalized(string name, double mean, double std)
    {
        using var dir = new TempDir();
        DataFiles.WriteMnistLike(dir.Path, [3, 9, 0], [7, 1], "train-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
        using var split = DatasetRegistry.Load(name, dir.Path);

        Assert.Equal(dir.Path, split.Source);
        Assert.Equal(name, split.Train.Name);
        Assert.Equal(TaskKind.Classification, split.Train.Kind);
        Assert.Equal(10, split.Train.NumClasses);
        Assert.Equal([3L, 1, 2, 3], split.Train.Inputs.shape);
        Assert.Equal([1L, 2, 3], split.Test.SampleShape);
        Assert.Equal(6, split.Test.InputSize);
        Assert.Equal(torch.ScalarType.Float32, split.Train.Inputs.dtype);
        Assert.Equal([3L, 9, 0], split.Train.Targets.data<long>().ToArray());
        Assert.Equal([7L, 1], split.Test.Targets.data<long>().ToArray());

        var x = split.Train.Inputs.data<float>().ToArray();
        for (var i = 0; i < x.Length; i++)
            Assert.Equal((DataFiles.Pixel(i / 6, i % 6) / 255.0 - mean) / std, x[i], 1e-5);
        var t = split.Test.Inputs.data<float>().ToArray();
        Assert.Equal((DataFiles.Pixel(101, 5) / 255.0 - mean) / std, t[11], 1e-5);
    }

    [Fact]
    public void NormalizationConstantsAreTheDocumentedOnes()
    {
        Assert.Equal([0.1307f], Normalization.Mnist.Mean);
        Assert.Equal([0.3081f], Normalization.Mnist.Std);
        Assert.Equal([0.2860f], Normalization.FashionMnist.Mean);
        Assert.Equal([0.3530f], Normalization.FashionMnist.Std);
        Assert.Equal([0.4914f, 0.4822f, 0.4465f], Normalization.Cifar10.Mean);
        Assert.Equal([0.2470f, 0.2435f, 0.2616f], Normalization.Cifar10.Std);
        Assert.Equal([0.5071f, 0.4865f, 0.4409f], Normalization.Cifar100.Mean);
        Assert.Equal([0.2673f, 0.2564f, 0.2762f], Normalization.Cifar100.Std);
    }

    [Fact]
    public void TakeReturnsFirstSamples()
    {
        using var dir = new TempDir();
        DataFiles.WriteMnistLike(dir.Path, [3, 9, 0], [7, 1]);
        using var split = DatasetRegistry.Load("mnist", dir.Path);
        using var two = split.Train.Take(2);
        Assert.Equal(2, two.Count);
        Assert.Equal([3L, 9], two.Targets.data<long>().ToArray());
        Assert.Equal(split.Train.Inputs[..2].data<float>().ToArray(), two.Inputs.data<float>().ToArray());
        using var all = split.Train.Take(100);
        Assert.Equal(3, all.Count);
    }
}
