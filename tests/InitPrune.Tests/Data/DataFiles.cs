using System.Buffers.Binary;
using System.IO.Compression;

namespace InitPrune.Tests.Data;

/// <summary>Writes files in the real IDX and CIFAR binary formats.</summary>
public static class DataFiles
{
    public static byte[] IdxImages(int count, int rows, int cols, byte[] pixels, int magic = 0x803)
    {
        var b = new byte[16 + pixels.Length];
        BinaryPrimitives.WriteInt32BigEndian(b, magic);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(12), cols);
        pixels.CopyTo(b, 16);
        return b;
    }

    public static byte[] IdxLabels(byte[] labels, int magic = 0x801)
    {
        var b = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(b, magic);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4), labels.Length);
        labels.CopyTo(b, 8);
        return b;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest))
            gz.Write(data);
        return ms.ToArray();
    }

    /// <summary>Pixel value pattern: a function of image n and byte position k that differs across planes.</summary>
    public static byte Pixel(int n, int k) => (byte)((n * 31 + k * 7 + k / 1024 * 50) % 256);

    public static byte[] Pixels(int firstImage, int count, int imageBytes) =>
        [.. Enumerable.Range(0, count * imageBytes).Select(i => Pixel(firstImage + i / imageBytes, i % imageBytes))];

    /// <summary>Writes the four MNIST-style files (train: 3 images, test: 2 images, 2x3 pixels), gzipping those named in <paramref name="gzipped"/>.</summary>
    public static void WriteMnistLike(string folder, byte[] trainLabels, byte[] testLabels, params string[] gzipped)
    {
        const int Rows = 2, Cols = 3;
        void Write(string name, byte[] data) =>
            File.WriteAllBytes(Path.Combine(folder, gzipped.Contains(name) ? name + ".gz" : name), gzipped.Contains(name) ? Gzip(data) : data);
        Write("train-images-idx3-ubyte", IdxImages(trainLabels.Length, Rows, Cols, Pixels(0, trainLabels.Length, Rows * Cols)));
        Write("train-labels-idx1-ubyte", IdxLabels(trainLabels));
        Write("t10k-images-idx3-ubyte", IdxImages(testLabels.Length, Rows, Cols, Pixels(100, testLabels.Length, Rows * Cols)));
        Write("t10k-labels-idx1-ubyte", IdxLabels(testLabels));
    }

    /// <summary>CIFAR records for images firstImage.. with the given label bytes per record (1 for CIFAR-10, 2 for CIFAR-100).</summary>
    public static byte[] CifarRecords(int firstImage, byte[][] labelBytes)
    {
        var ms = new MemoryStream();
        for (var r = 0; r < labelBytes.Length; r++)
        {
            ms.Write(labelBytes[r]);
            ms.Write(Pixels(firstImage + r, 1, 3072));
        }
        return ms.ToArray();
    }
}
