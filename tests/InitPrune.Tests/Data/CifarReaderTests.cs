using InitPrune.Data;

namespace InitPrune.Tests.Data;

public class CifarReaderTests
{
    static void AssertImages(float[] x, int firstImage, Normalization norm)
    {
        Assert.Equal(0, x.Length % 3072);
        for (var n = 0; n < x.Length / 3072; n++)
            for (var c = 0; c < 3; c++)
                for (var h = 0; h < 32; h += 7)
                    for (var w = 0; w < 32; w += 5)
                    {
                        var k = c * 1024 + h * 32 + w;
                        var expected = (DataFiles.Pixel(firstImage + n, k) / 255.0 - norm.Mean[c]) / norm.Std[c];
                        Assert.Equal(expected, x[n * 3072 + k], 1e-5);
                    }
    }

    [Fact]
    public void ReadsCifar10PlanesAndLabelsAcrossBatchFiles()
    {
        using var dir = new TempDir();
        var folder = dir.Sub("cifar-10-batches-bin");
        for (var b = 1; b <= 5; b++)
            File.WriteAllBytes(Path.Combine(folder, $"data_batch_{b}.bin"), DataFiles.CifarRecords(2 * (b - 1), [[(byte)(2 * b - 2)], [(byte)(b % 10)]]));
        File.WriteAllBytes(Path.Combine(folder, "test_batch.bin"), DataFiles.CifarRecords(50, [[9], [3]]));

        using var split = DatasetRegistry.Load("cifar10", dir.Path);

        Assert.Equal(folder, split.Source);
        Assert.Equal(10, split.Train.NumClasses);
        Assert.Equal([10L, 3, 32, 32], split.Train.Inputs.shape);
        Assert.Equal([0L, 1, 2, 2, 4, 3, 6, 4, 8, 5], split.Train.Targets.data<long>().ToArray());
        Assert.Equal([9L, 3], split.Test.Targets.data<long>().ToArray());
        AssertImages(split.Train.Inputs.data<float>().ToArray(), 0, Normalization.Cifar10);
        AssertImages(split.Test.Inputs.data<float>().ToArray(), 50, Normalization.Cifar10);
        // Hand check: image 1, green plane, row 2, column 3 holds byte (31 + 7 * (1024 + 67) + 50) % 256.
        var g = (31 + 7 * 1091 + 50) % 256 / 255.0;
        Assert.Equal((g - 0.4822) / 0.2435, split.Train.Inputs[1, 1, 2, 3].item<float>(), 1e-5);
    }

    [Theory]
    [InlineData(false, 100)]
    [InlineData(true, 20)]
    public void ReadsCifar100FineOrCoarseLabels(bool coarse, int classes)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("train.bin"), DataFiles.CifarRecords(0, [[19, 99], [4, 42], [0, 0]]));
        File.WriteAllBytes(dir.File("test.bin"), DataFiles.CifarRecords(7, [[11, 57]]));

        using var split = CifarReader.LoadCifar100(dir.Path, coarse);

        Assert.Equal(classes, split.Train.NumClasses);
        Assert.Equal(coarse ? [19L, 4, 0] : [99L, 42, 0], split.Train.Targets.data<long>().ToArray());
        Assert.Equal(coarse ? [11L] : [57L], split.Test.Targets.data<long>().ToArray());
        AssertImages(split.Train.Inputs.data<float>().ToArray(), 0, Normalization.Cifar100);
        AssertImages(split.Test.Inputs.data<float>().ToArray(), 7, Normalization.Cifar100);
    }

    [Fact]
    public void RegistryLoadsCifar100WithFineLabels()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("train.bin"), DataFiles.CifarRecords(0, [[19, 99]]));
        File.WriteAllBytes(dir.File("test.bin"), DataFiles.CifarRecords(1, [[1, 2]]));
        using var split = DatasetRegistry.Load("cifar100", dir.Path);
        Assert.Equal(100, split.Train.NumClasses);
        Assert.Equal([99L], split.Train.Targets.data<long>().ToArray());
    }
}
