using InitPrune.Data;
using InitPrune.Engine;
using SkiaSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Data;

public class TinyImageNetReaderTests
{
    // Quality-95 JPEGs of a flat colour decode within a few levels of it.
    const double JpegLevels = 3;

    static string Tree(TempDir dir) => TinyImageNetFiles.Write(Path.Combine(dir.Path, "tiny-imagenet-200"));

    static InitPruneException AssertOneLineError(Action act, params string[] fragments)
    {
        var e = Assert.Throws<InitPruneException>(act);
        Assert.DoesNotContain('\n', e.Message);
        foreach (var f in fragments)
            Assert.Contains(f, e.Message);
        return e;
    }

    /// <summary>Every pixel of image <paramref name="n"/> is the normalized flat colour, within JPEG error.</summary>
    static void AssertFlat(Tensor inputs, int n, (byte R, byte G, byte B) colour)
    {
        var bytes = new[] { colour.R, colour.G, colour.B };
        var norm = Normalization.TinyImageNet;
        for (var c = 0; c < 3; c++)
        {
            using var plane = inputs[n, c];
            var expected = (bytes[c] / 255.0 - norm.Mean[c]) / norm.Std[c];
            var tolerance = JpegLevels / 255.0 / norm.Std[c];
            using var lo = plane.min();
            using var hi = plane.max();
            Assert.InRange(lo.item<float>(), expected - tolerance, expected + tolerance);
            Assert.InRange(hi.item<float>(), expected - tolerance, expected + tolerance);
        }
    }

    [Fact]
    public void MiniatureTreeLoadsWithShapesLabelsAndColours()
    {
        using var dir = new TempDir();
        var root = Tree(dir);

        using var split = TinyImageNetReader.Load(root);

        Assert.Equal(root, split.Source);
        Assert.Equal(3, split.Train.NumClasses);
        Assert.Equal(3, split.Test.NumClasses);
        Assert.Equal([12L, 3, 64, 64], split.Train.Inputs.shape);
        Assert.Equal([5L, 3, 64, 64], split.Test.Inputs.shape);
        Assert.Equal(ScalarType.Float32, split.Train.Inputs.dtype);
        Assert.Equal(ScalarType.Int64, split.Train.Targets.dtype);
        Assert.Equal([0L, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2], split.Train.Targets.data<long>().ToArray());
        Assert.Equal([2L, 0, 1, 2, 0], split.Test.Targets.data<long>().ToArray());
        for (var c = 0; c < 3; c++)
            for (var k = 0; k < TinyImageNetFiles.TrainPerClass; k++)
                AssertFlat(split.Train.Inputs, c * TinyImageNetFiles.TrainPerClass + k, TinyImageNetFiles.TrainColour(c, k));
        for (var v = 0; v < 5; v++)
            AssertFlat(split.Test.Inputs, v, TinyImageNetFiles.ValColour(v));
    }

    [Fact]
    public void GrayscaleJpegIsWrittenAsGrayAndReadAsThreeEqualChannels()
    {
        using var dir = new TempDir();
        var root = Tree(dir);
        using (var codec = SKCodec.Create(Path.Combine(root, "val", "images", "val_2.JPEG")))
            Assert.Equal(SKColorType.Gray8, codec.Info.ColorType);

        using var split = TinyImageNetReader.Load(root);

        // Hand check: gray level 140 becomes (140/255 − mean[c]) / std[c] in each channel.
        Assert.Equal((140 / 255.0 - 0.4802) / 0.2302, split.Test.Inputs[2, 0, 10, 10].item<float>(), JpegLevels / 255 / 0.2302);
        Assert.Equal((140 / 255.0 - 0.3975) / 0.2262, split.Test.Inputs[2, 2, 63, 0].item<float>(), JpegLevels / 255 / 0.2262);
    }

    [Fact]
    public void LoadingTwiceGivesIdenticalTensors()
    {
        using var dir = new TempDir();
        var root = Tree(dir);
        using var a = TinyImageNetReader.Load(root);
        using var b = TinyImageNetReader.Load(root);
        Assert.True(a.Train.Inputs.equal(b.Train.Inputs).all().item<bool>());
        Assert.True(a.Test.Inputs.equal(b.Test.Inputs).all().item<bool>());
    }

    [Fact]
    public void DecodedPlanesMatchTheBytesSkiaDecodes()
    {
        // A non-flat image: the [3, 64, 64] planes must be the RGB channels of Skia's own RGBA decode.
        using var dir = new TempDir();
        var path = dir.File("ramp.JPEG");
        using (var bitmap = new SKBitmap(64, 64, SKColorType.Rgba8888, SKAlphaType.Opaque))
        {
            for (var y = 0; y < 64; y++)
                for (var x = 0; x < 64; x++)
                    bitmap.SetPixel(x, y, new SKColor((byte)(4 * x), (byte)(4 * y), (byte)(2 * (x + y))));
            using var image = SKImage.FromBitmap(bitmap);
            using var data = image.Encode(SKEncodedImageFormat.Jpeg, 95);
            File.WriteAllBytes(path, data.ToArray());
        }
        using var decoded = SKBitmap.Decode(path).Copy(SKColorType.Rgba8888);

        var planes = TinyImageNetReader.DecodeImages([path]);

        for (var y = 0; y < 64; y += 9)
            for (var x = 0; x < 64; x += 7)
            {
                var p = decoded.GetPixel(x, y);
                Assert.Equal([p.Red, p.Green, p.Blue], new[] { planes[y * 64 + x], planes[4096 + y * 64 + x], planes[8192 + y * 64 + x] });
            }
    }

    [Theory]
    [InlineData("wnids.txt")]
    [InlineData("train")]
    [InlineData("val/val_annotations.txt")]
    [InlineData("train/n01629819/images")]
    public void MissingPieceIsNamedWithHowToGetTheDataset(string piece)
    {
        using var dir = new TempDir();
        var root = Tree(dir);
        var path = Path.Combine(root, piece);
        if (Directory.Exists(path))
            Directory.Delete(path, recursive: true);
        else
            File.Delete(path);
        AssertOneLineError(() => TinyImageNetReader.Load(root), path, "missing", "tiny-imagenet-200.zip", "--data-dir", DataRoot.EnvVar);
    }

    [Fact]
    public void ClassWithoutImagesIsNamed()
    {
        using var dir = new TempDir();
        var root = Tree(dir);
        var images = Path.Combine(root, "train", "n01641577", "images");
        foreach (var f in Directory.GetFiles(images))
            File.Delete(f);
        AssertOneLineError(() => TinyImageNetReader.Load(root), images, "no JPEG images", "n01641577");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CorruptJpegIsNamed(bool truncated)
    {
        using var dir = new TempDir();
        var root = Tree(dir);
        var bad = Path.Combine(root, "train", "n01629819", "images", "n01629819_2.JPEG");
        var bytes = File.ReadAllBytes(bad);
        File.WriteAllBytes(bad, truncated ? bytes[..(bytes.Length / 2)] : [.. Enumerable.Range(0, 500).Select(i => (byte)(i * 37))]);
        AssertOneLineError(() => TinyImageNetReader.Load(root), bad, "corrupt");
    }

    [Fact]
    public void FirstBadFileInOrderIsReportedWhenSeveralAre()
    {
        using var dir = new TempDir();
        var root = Tree(dir);
        var first = Path.Combine(root, "train", "n01443537", "images", "n01443537_1.JPEG");
        File.WriteAllBytes(first, [1, 2, 3]);
        foreach (var other in new[] { "n01629819_0", "n01641577_3" })
            File.WriteAllBytes(Path.Combine(root, "train", other[..9], "images", other + ".JPEG"), [1, 2, 3]);
        for (var i = 0; i < 3; i++)
            AssertOneLineError(() => TinyImageNetReader.Load(root), first);
    }

    [Fact]
    public void WrongImageSizeIsNamed()
    {
        using var dir = new TempDir();
        var root = Tree(dir);
        var small = Path.Combine(root, "val", "images", "val_3.JPEG");
        TinyImageNetFiles.WriteJpeg(small, (9, 9, 9), side: 32);
        AssertOneLineError(() => TinyImageNetReader.Load(root), small, "32x32", "expected 64x64");
    }

    [Fact]
    public void AnnotationWithUnknownWnidIsNamed()
    {
        using var dir = new TempDir();
        var root = Tree(dir);
        var annotations = Path.Combine(root, "val", "val_annotations.txt");
        File.AppendAllLines(annotations, ["val_0.JPEG\tn99999999\t0\t0\t1\t1"]);
        AssertOneLineError(() => TinyImageNetReader.Load(root), annotations, "line 6", "n99999999", "not in wnids.txt");
    }

    [Fact]
    public void AnnotationNamingMissingFileIsNamed()
    {
        using var dir = new TempDir();
        var root = Tree(dir);
        var missing = Path.Combine(root, "val", "images", "val_1.JPEG");
        File.Delete(missing);
        AssertOneLineError(() => TinyImageNetReader.Load(root), "line 2", missing, "missing");
    }

    [Fact]
    public void EmptyWnidsFileIsRejected()
    {
        using var dir = new TempDir();
        var root = Tree(dir);
        File.WriteAllText(Path.Combine(root, "wnids.txt"), "\n");
        AssertOneLineError(() => TinyImageNetReader.Load(root), Path.Combine(root, "wnids.txt"), "0 class ids");
    }

    [Fact]
    public void RegistryFindsTheTreeInItsSubfolder()
    {
        using var dir = new TempDir();
        var root = Tree(dir);

        using var split = DatasetRegistry.Load("tiny-imagenet", dir.Path);

        Assert.Equal(root, split.Source);
        Assert.Equal("tiny-imagenet", split.Train.Name);
        Assert.Equal([12L, 3, 64, 64], split.Train.Inputs.shape);
        Assert.Equal([2L, 0, 1, 2, 0], split.Test.Targets.data<long>().ToArray());
        Assert.Equal(root, DatasetRegistry.TryFindRoot("TinyImageNet", dir.Path));
    }
}

[Collection(DataEnvironmentCollection.Name)]
public class TinyImageNetRegistryMissingTests
{
    [Fact]
    public void RegistrySaysWhatIsMissingAndHowToGetIt()
    {
        using var dir = new TempDir();
        using var env = new DataEnvironment(null, dir.Sub("home"), dir.Sub("system"));
        var partial = dir.Sub("tiny-imagenet-200");
        File.WriteAllLines(Path.Combine(partial, "wnids.txt"), TinyImageNetFiles.Wnids);
        Directory.CreateDirectory(Path.Combine(partial, "train"));

        var e = Assert.Throws<InitPruneException>(() => DatasetRegistry.Load("tiny-imagenet", dir.Path));

        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("tiny-imagenet not found", e.Message);
        Assert.Contains($"{partial} lacks val/val_annotations.txt", e.Message);
        Assert.Contains("tiny-imagenet-200.zip", e.Message);
    }
}
