using InitPrune.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Data;

public class AugmentationTests
{
    /// <summary>Plain-loop reference: out[s, c, i, j] = x[s, c, i + dy, j' + dx] (j' = W − 1 − j when flipped), 0 outside.</summary>
    static float[] Reference(float[] x, int n, int c, int h, int w, int[] dy, int[] dx, bool[] flip)
    {
        var y = new float[x.Length];
        for (var s = 0; s < n; s++)
            for (var k = 0; k < c; k++)
                for (var i = 0; i < h; i++)
                    for (var j = 0; j < w; j++)
                    {
                        var (r, q) = (i + dy[s], (flip[s] ? w - 1 - j : j) + dx[s]);
                        y[((s * c + k) * h + i) * w + j] = r >= 0 && r < h && q >= 0 && q < w ? x[((s * c + k) * h + r) * w + q] : 0f;
                    }
        return y;
    }

    [Theory]
    [InlineData(4, 5, 7, 2)]
    [InlineData(3, 8, 8, 4)]
    [InlineData(2, 3, 2, 3)]
    public void GivenShiftsAndFlipsMatchesPlainLoop(int n, int h, int w, int padding)
    {
        using var x = randn([n, 2, h, w], generator: new Generator(7));
        var rng = new Random(n * 100 + h);
        var dy = Enumerable.Range(0, n).Select(_ => rng.Next(-padding, padding + 1)).ToArray();
        var dx = Enumerable.Range(0, n).Select(_ => rng.Next(-padding, padding + 1)).ToArray();
        dy[0] = -padding;
        dx[^1] = padding;
        var flip = Enumerable.Range(0, n).Select(s => s % 2 == 1).ToArray();

        using var y = Augmentation.CropFlip(x, dy, dx, flip, padding);

        Assert.Equal(x.shape, y.shape);
        Assert.Equal(Reference(x.data<float>().ToArray(), n, 2, h, w, dy, dx, flip), y.data<float>().ToArray());
    }

    [Fact]
    public void HandCaseShiftsOneSampleAndFlipsAnother()
    {
        using var x = arange(1f, 10f).reshape(1, 1, 3, 3).repeat(2, 1, 1, 1);
        using var y = Augmentation.CropFlip(x, [1, 0], [-1, 0], [false, true], 1);
        // Sample 0 reads x[i + 1, j - 1]; sample 1 is the mirror image.
        Assert.Equal([0f, 4, 5, 0, 7, 8, 0, 0, 0, 3, 2, 1, 6, 5, 4, 9, 8, 7], y.data<float>().ToArray());
    }

    [Fact]
    public void PaddingZeroWithoutFlipIsIdentity()
    {
        using var x = randn([3, 3, 6, 5], generator: new Generator(1));
        using var y = Augmentation.CropFlip(x, [0, 0, 0], [0, 0, 0], [false, false, false], 0);
        Assert.True(x.equal(y).all().item<bool>());
    }

    [Fact]
    public void EqualSeedsGiveEqualBatchesAndDifferentSeedsDiffer()
    {
        using var x = randn([16, 3, 32, 32], generator: new Generator(3));
        using var a = Augmentation.CropFlip(x, new Generator(11));
        using var b = Augmentation.CropFlip(x, new Generator(11));
        using var c = Augmentation.CropFlip(x, new Generator(12));
        Assert.True(a.equal(b).all().item<bool>());
        Assert.False(a.equal(c).all().item<bool>());
        Assert.Equal(x.shape, a.shape);
    }

    [Fact]
    public void EachSampleIsAShiftedOrFlippedCopyOfItself()
    {
        // Recover each sample's (dy, dx, flip) by search and check that exactly one candidate reproduces it.
        const int N = 6, P = 2;
        using var x = rand([N, 2, 5, 6], generator: new Generator(5)).add_(1f);
        using var y = Augmentation.CropFlip(x, new Generator(9), P);
        var xs = x.data<float>().ToArray();
        var ys = y.data<float>().ToArray();
        for (var s = 0; s < N; s++)
        {
            var matches = 0;
            for (var dy = -P; dy <= P; dy++)
                for (var dx = -P; dx <= P; dx++)
                    foreach (var f in new[] { false, true })
                    {
                        var r = Reference(xs[(s * 60)..((s + 1) * 60)], 1, 2, 5, 6, [dy], [dx], [f]);
                        matches += r.SequenceEqual(ys[(s * 60)..((s + 1) * 60)]) ? 1 : 0;
                    }
            Assert.Equal(1, matches);
        }
    }

    [Fact]
    public void ShiftsCoverTheRangeAndHalfTheSamplesAreFlipped()
    {
        // One bright pixel at the centre of a 9x9 image survives every shift of at most 4 and lands at
        // row 4 − dy and column 4 − dx (4 + dx when flipped): each of the 9 rows and columns is equally likely.
        const int N = 4000, P = 4;
        var pixels = new float[N * 81];
        for (var s = 0; s < N; s++)
            pixels[s * 81 + 40] = 1f;
        using var dot = tensor(pixels, [N, 1, 9, 9]);
        using var moved = Augmentation.CropFlip(dot, new Generator(21), P);
        var at = moved.flatten(1).argmax(1).data<long>().ToArray();
        var (p, se) = (N / 9.0, Math.Sqrt(N * (1 / 9.0) * (8 / 9.0)));
        foreach (var coordinate in new Func<long, long>[] { i => i / 9, i => i % 9 })
        {
            var counts = new int[2 * P + 1];
            foreach (var i in at)
                counts[coordinate(i)]++;
            Assert.All(counts, k => Assert.InRange(k, p - 5 * se, p + 5 * se));
        }

        using var ramp = tensor(new float[] { 1, 2 }, [1, 1, 1, 2]).repeat(N, 1, 1, 1);
        using var flipped = Augmentation.CropFlip(ramp, new Generator(22), 0);
        var flips = flipped.data<float>().ToArray().Chunk(2).Count(v => v[0] == 2f);
        Assert.InRange(flips, N / 2 - 5 * Math.Sqrt(N / 4.0), N / 2 + 5 * Math.Sqrt(N / 4.0));
    }

    [Fact]
    public void BadInputsAreRejected()
    {
        using var flat = zeros(4, 3);
        Assert.Throws<ArgumentException>(() => Augmentation.CropFlip(flat, new Generator(0)));
        using var x = zeros(2, 1, 4, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => Augmentation.CropFlip(x, new Generator(0), -1));
        Assert.Throws<ArgumentException>(() => Augmentation.CropFlip(x, [0], [0, 0], [false, false], 1));
        Assert.Throws<ArgumentException>(() => Augmentation.CropFlip(x, [0, 0], [2, 0], [false, false], 1));
    }
}
