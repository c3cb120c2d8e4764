using InitPrune.Data;
using InitPrune.Engine;

namespace InitPrune.Tests.Data;

public class BadInputTests
{
    static string AssertOneLineError(Action act, params string[] fragments)
    {
        var e = Assert.Throws<InitPruneException>(act);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\r', e.Message);
        foreach (var f in fragments)
            Assert.Contains(f, e.Message);
        return e.Message;
    }

    [Fact]
    public void UnknownDatasetNameListsKnownOnes()
    {
        var names = DatasetRegistry.Names;
        Assert.Equal(["fashion-mnist", "mnist", "cifar10", "cifar100", "tiny-imagenet", "ellipse", "shifted-relu"], names);
        AssertOneLineError(() => DatasetRegistry.Load("imagenet"), ["unknown dataset 'imagenet'", .. names]);
    }

    [Fact]
    public void WrongMagicNumberSaysExpectedAndFound()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("images"), DataFiles.IdxLabels([1, 2]));
        AssertOneLineError(() => IdxReader.ReadImages(dir.File("images")), dir.File("images"), "magic", "0x00000801", "expected 0x00000803");
    }

    [Fact]
    public void TruncatedImageFileSaysExpectedAndFoundBytes()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("images"), DataFiles.IdxImages(3, 2, 3, new byte[10]));
        AssertOneLineError(() => IdxReader.ReadImages(dir.File("images")), dir.File("images"), "truncated", "expected 34 bytes", "found 26");
    }

    [Fact]
    public void TruncatedGzippedLabelFileIsReported()
    {
        using var dir = new TempDir();
        var gz = DataFiles.Gzip(DataFiles.IdxLabels(new byte[5000]));
        File.WriteAllBytes(dir.File("labels.gz"), gz[..(gz.Length / 2)]);
        var message = AssertOneLineError(() => IdxReader.ReadLabels(dir.File("labels.gz")), dir.File("labels.gz"));
        Assert.True(message.Contains("truncated") || message.Contains("corrupt gzip"), message);
    }

    [Fact]
    public void EmptyFileIsTruncated()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("labels"), []);
        AssertOneLineError(() => IdxReader.ReadLabels(dir.File("labels")), dir.File("labels"), "truncated", "expected 8 bytes", "found 0");
    }

    [Fact]
    public void CorruptGzipIsReported()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("labels.gz"), [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xee, 1, 2, 3, 4, 5, 6]);
        AssertOneLineError(() => IdxReader.ReadLabels(dir.File("labels.gz")), dir.File("labels.gz"), "corrupt gzip");
    }

    [Fact]
    public void ImageLabelCountMismatchNamesBothFiles()
    {
        using var dir = new TempDir();
        DataFiles.WriteMnistLike(dir.Path, [1, 2, 3], [1, 2]);
        File.WriteAllBytes(dir.File("t10k-labels-idx1-ubyte"), DataFiles.IdxLabels([1, 2, 3]));
        AssertOneLineError(() => DatasetRegistry.Load("mnist", dir.Path),
            dir.File("t10k-images-idx3-ubyte"), dir.File("t10k-labels-idx1-ubyte"), "2 images", "3 labels");
    }

    [Fact]
    public void IdxLabelOutOfRangeNamesValueAndIndex()
    {
        using var dir = new TempDir();
        DataFiles.WriteMnistLike(dir.Path, [1, 12, 3], [1, 2]);
        AssertOneLineError(() => DatasetRegistry.Load("fashion-mnist", dir.Path),
            dir.File("train-labels-idx1-ubyte"), "label 12 at index 1", "10 classes");
    }

    [Fact]
    public void CifarLabelOutOfRangeNamesValueAndRecord()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("test_batch.bin"), DataFiles.CifarRecords(0, [[1], [2], [10]]));
        AssertOneLineError(() => CifarReader.ReadCifar10(dir.File("test_batch.bin")), dir.File("test_batch.bin"), "label 10 of record 2", "10 classes");
    }

    [Fact]
    public void Cifar100CoarseLabelOutOfRange()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("train.bin"), DataFiles.CifarRecords(0, [[20, 5]]));
        Assert.Equal([5], CifarReader.ReadCifar100(dir.File("train.bin")).labels);
        AssertOneLineError(() => CifarReader.ReadCifar100(dir.File("train.bin"), coarse: true), "label 20 of record 0", "20 classes");
    }

    [Fact]
    public void TruncatedCifarFileSaysExpectedAndFoundBytes()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("test_batch.bin"), DataFiles.CifarRecords(0, [[1], [2]])[..^5]);
        AssertOneLineError(() => CifarReader.ReadCifar10(dir.File("test_batch.bin")), dir.File("test_batch.bin"), "truncated", "6146 bytes", "found 6141");
    }

    [Fact]
    public void MissingCifarFileIsNamed()
    {
        using var dir = new TempDir();
        AssertOneLineError(() => CifarReader.LoadCifar10(dir.Path), dir.File("data_batch_1.bin"), "missing");
    }

    [Fact]
    public void MissingIdxFileInLoadIsNamed()
    {
        using var dir = new TempDir();
        DataFiles.WriteMnistLike(dir.Path, [1], [2]);
        File.Delete(dir.File("t10k-images-idx3-ubyte"));
        AssertOneLineError(() => MnistLike.Load(dir.Path, "mnist", Normalization.Mnist), "t10k-images-idx3-ubyte", "missing");
    }

    [Fact]
    public void BadBatchSizeIsAUserError()
    {
        using var split = Synthetic.ShiftedRelu(0, 10);
        AssertOneLineError(() => new DataLoader(split.Train, 0, shuffle: false, seed: 0), "batch size");
        AssertOneLineError(() => new DataLoader(split.Train, 9, shuffle: false, seed: 0, dropLast: true), "fewer than the batch size");
    }
}
