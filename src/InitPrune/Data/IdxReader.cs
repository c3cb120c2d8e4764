using System.Buffers.Binary;

namespace InitPrune.Data;

/// <summary>Reads the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed.</summary>
public static class IdxReader
{
    public const int ImagesMagic = 0x00000803;
    public const int LabelsMagic = 0x00000801;

    /// <summary>Reads an idx3-ubyte image file: the pixels of all images, row-major, one byte each.</summary>
    public static (byte[] pixels, int count, int rows, int cols) ReadImages(string path)
    {
        using var s = DataFile.Open(path);
        var header = ReadHeader(s, path, ImagesMagic, "image", 3);
        var (count, rows, cols) = (header[0], header[1], header[2]);
        var size = (long)count * rows * cols;
        if (size > Array.MaxLength)
            throw DataError.Create($"{path}: header says {count} images of {rows}x{cols}, too large to load; check the file is an IDX image file");
        var pixels = new byte[size];
        var got = DataFile.Fill(s, pixels, path);
        if (got < size)
            throw Truncated(path, 16 + size, 16 + got, $"{count} images of {rows}x{cols}");
        return (pixels, count, rows, cols);
    }

    /// <summary>Reads an idx1-ubyte label file.</summary>
    public static byte[] ReadLabels(string path)
    {
        using var s = DataFile.Open(path);
        var count = ReadHeader(s, path, LabelsMagic, "label", 1)[0];
        var labels = new byte[count];
        var got = DataFile.Fill(s, labels, path);
        if (got < count)
            throw Truncated(path, 8 + count, 8 + got, $"{count} labels");
        return labels;
    }

    static int[] ReadHeader(Stream s, string path, int magic, string kind, int dims)
    {
        var header = new byte[4 * (dims + 1)];
        var got = DataFile.Fill(s, header, path);
        if (got >= 4 && BinaryPrimitives.ReadInt32BigEndian(header) is var found && found != magic)
            throw DataError.Create($"{path}: wrong magic number 0x{found:x8}, expected 0x{magic:x8} for an IDX {kind} file; check the file name and that it is the uncorrupted official file");
        if (got < header.Length)
            throw Truncated(path, header.Length, got, "the IDX header");
        var values = new int[dims];
        for (var i = 0; i < dims; i++)
        {
            values[i] = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4 * (i + 1)));
            if (values[i] < 0 || (i > 0 && values[i] == 0))
                throw DataError.Create($"{path}: IDX header has invalid dimension {values[i]}; the file is corrupt, download it again");
        }
        return values;
    }

    static Exception Truncated(string path, long expected, long found, string what) =>
        DataError.Create($"{path} is truncated: expected {expected} bytes (decompressed) for {what}, found {found}; download the file again");
}
