using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Data;

/// <summary>
/// The seeds' CIFAR augmentation, applied on the fly to a batch: a random crop with <c>padding</c> pixels of
/// padding (each sample shifted by (dy, dx), both uniform in [−padding, padding]) followed by a horizontal flip
/// with probability 1/2. The output pixel (i, j) of a sample is x[i + dy, j' + dx] with j' = j, or W − 1 − j when
/// flipped, and 0 where that falls outside the image.
/// </summary>
/// <remarks>
/// The padding is zeros of the <em>normalized</em> tensor, i.e. the channel mean of the raw image; torchvision's
/// <c>RandomCrop(32, padding=4)</c> pads the raw image with black, which becomes −mean/std after normalization.
/// Both are in use; zero padding here keeps the batch free of the dataset's statistics.
/// </remarks>
public static class Augmentation
{
    /// <summary>
    /// A new tensor shaped like <paramref name="x"/> ([N, C, H, W]), each sample cropped and flipped independently
    /// with numbers drawn from <paramref name="g"/> (dy for all samples, then dx, then the flips).
    /// </summary>
    public static Tensor CropFlip(Tensor x, Generator g, int padding = 4)
    {
        Check(x, padding);
        var n = x.shape[0];
        using var dy = randint(-padding, padding + 1, [n], dtype: ScalarType.Int32, generator: g);
        using var dx = randint(-padding, padding + 1, [n], dtype: ScalarType.Int32, generator: g);
        using var flip = randint(0, 2, [n], dtype: ScalarType.Int32, generator: g);
        return CropFlip(x, dy.data<int>().ToArray(), dx.data<int>().ToArray(), [.. flip.data<int>().ToArray().Select(f => f == 1)], padding);
    }

    /// <summary>The crop and flip with given shifts and flips per sample (what <see cref="CropFlip(Tensor, Generator, int)"/> draws).</summary>
    internal static Tensor CropFlip(Tensor x, int[] dy, int[] dx, bool[] flip, int padding)
    {
        Check(x, padding);
        var (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        if (dy.Length != n || dx.Length != n || flip.Length != n)
            throw new ArgumentException($"need one dy, dx and flip per sample ({n}), got {dy.Length}, {dx.Length}, {flip.Length}");
        if (dy.Concat(dx).Any(d => Math.Abs(d) > padding))
            throw new ArgumentException($"shifts dy and dx must lie in [-{padding}, {padding}]");
        var (ph, pw) = (h + 2 * padding, w + 2 * padding);
        // One flat index per output pixel into the padded image: (padding + dy + i) * pw + padding + dx + j'.
        var index = new long[n * h * w];
        for (var s = 0; s < n; s++)
            for (var i = 0; i < h; i++)
            {
                var row = (padding + dy[s] + i) * pw + padding + dx[s];
                var at = (s * h + i) * w;
                for (var j = 0; j < w; j++)
                    index[at + j] = row + (flip[s] ? w - 1 - j : j);
            }
        using var scope = NewDisposeScope();
        var padded = padding == 0 ? x : nn.functional.pad(x, [padding, padding, padding, padding]);
        var flat = padded.reshape(n, c, ph * pw);
        var gather = torch.tensor(index, [n, 1, h * w], device: x.device).expand(n, c, h * w);
        return flat.gather(2, gather).view(n, c, h, w).MoveToOuterDisposeScope();
    }

    static void Check(Tensor x, int padding)
    {
        if (x.dim() != 4)
            throw new ArgumentException($"expected images [N, C, H, W], got [{string.Join(", ", x.shape)}]", nameof(x));
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
    }
}
