using System.IO.Compression;

namespace InitPrune.Data;

/// <summary>Opens data files, decompressing gzip (recognized by its 1f 8b magic, whatever the extension).</summary>
internal static class DataFile
{
    public static Stream Open(string path)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw DataError.Create($"cannot read {path}: {e.Message}", e);
        }
        var head = new byte[2];
        var n = file.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return n == 2 && head[0] == 0x1f && head[1] == 0x8b ? new BufferedStream(new GZipStream(file, CompressionMode.Decompress), 1 << 16) : file;
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="stream"/>; returns the bytes read (fewer only at end of data).</summary>
    public static int Fill(Stream stream, Span<byte> buffer, string path)
    {
        try
        {
            return stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw DataError.Create($"{path} is a corrupt gzip file ({e.Message}): download it again, or decompress it with gunzip to find the damage", e);
        }
        catch (IOException e)
        {
            throw DataError.Create($"cannot read {path}: {e.Message}", e);
        }
    }
}
