using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using InitPrune.Engine;

namespace InitPrune.IO;

/// <summary>The formats InitPrune writes tensors in.</summary>
public enum SaveFormat
{
    /// <summary>Hugging Face safetensors (<c>.safetensors</c>), with <c>format=pt</c> metadata and a fixed order.</summary>
    Safetensors,

    /// <summary>PyTorch's zip checkpoint (<c>.pt</c>), as <c>torch.save(state_dict)</c> writes it.</summary>
    Pt,
}

/// <summary>What a tensor file is, told from its first bytes (never from its name).</summary>
public enum FileKind
{
    Safetensors,
    PyTorchZip,
    Other,
}

/// <summary>Recognizes tensor files by their magic bytes, so a file InitPrune does not read is named in one line.</summary>
public static class CheckpointFormat
{
    /// <summary>What every refusal says InitPrune reads.</summary>
    public const string Readable = "InitPrune reads safetensors and PyTorch .pt/.pth (zip) checkpoints";

    public static string Extension(SaveFormat format) => format == SaveFormat.Pt ? ".pt" : ".safetensors";

    /// <summary>Parses the --save-format / --format value (pt, pth, safetensors).</summary>
    public static SaveFormat Parse(string text, string option = "--save-format") => text.Trim().ToLowerInvariant() switch
    {
        "safetensors" => SaveFormat.Safetensors,
        "pt" or "pth" or "pytorch" => SaveFormat.Pt,
        _ => throw new InitPruneException($"{option} '{text}' is not a format InitPrune writes: use safetensors or pt"),
    };

    /// <summary>
    /// The kind of <paramref name="path"/> and, for <see cref="FileKind.Other"/>, a noun phrase naming what it is (after a
    /// '|', what to do instead).
    /// </summary>
    public static (FileKind Kind, string Description) Detect(string path)
    {
        byte[] head;
        long length;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            length = stream.Length;
            head = new byte[(int)Math.Min(length, 512)];
            stream.ReadExactly(head);
        }
        if (length == 0) return (FileKind.Other, "an empty file");
        if (StartsWith(head, "PK\x03\x04"u8) || StartsWith(head, "PK\x05\x06"u8)) return Zip(path);
        if (length >= 9 && head[8] == (byte)'{')
        {
            var n = BinaryPrimitives.ReadUInt64LittleEndian(head);
            if (n > 0 && n <= (ulong)(length - 8)) return (FileKind.Safetensors, "a safetensors file");
        }
        if (StartsWith(head, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]))
            return (FileKind.Other, "a legacy (non-zip) PyTorch checkpoint|: load it in PyTorch and torch.save it again (PyTorch 1.6 or newer writes zip)");
        if (head.Length >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5)
            return (FileKind.Other, "a Python pickle, not a PyTorch zip checkpoint|: torch.save(model.state_dict()) instead");
        if (StartsWith(head, [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'])) return (FileKind.Other, "a NumPy .npy array");
        if (StartsWith(head, [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a])) return (FileKind.Other, "an HDF5 (.h5) file");
        if (StartsWith(head, [0x1f, 0x8b])) return (FileKind.Other, "a gzip-compressed file");
        if (StartsWith(head, "GGUF"u8)) return (FileKind.Other, "a GGUF file");
        if (head.Length >= 3 && head[0] == 0x08 && head[1] is >= 1 and <= 15 && head[2] is 0x12 or 0x1a or 0x22 or 0x2a or 0x3a or 0x42)
            return (FileKind.Other, "an ONNX model|: torch.save(model.state_dict()) of the PyTorch model instead");
        if (IsText(head)) return (FileKind.Other, "a text file");
        if (length < 8) return (FileKind.Other, $"a {length}-byte file, too short for any tensor format");
        return (FileKind.Other, $"a file of unknown format (it starts with bytes {Convert.ToHexString(head, 0, Math.Min(head.Length, 8)).ToLowerInvariant()})");
    }

    /// <summary>The one-line error for a file InitPrune does not read (exists, but is neither safetensors nor a PyTorch zip checkpoint).</summary>
    public static InitPruneException Unreadable(string path, string description)
    {
        var cut = description.IndexOf('|', StringComparison.Ordinal);
        var (what, hint) = cut < 0 ? (description, "") : (description[..cut], description[(cut + 1)..]);
        return new($"'{OneLine(path)}' is {what}; {Readable}{hint}");
    }

    /// <summary>Refuses a missing file, or one in a format InitPrune does not read, in one line; returns its kind.</summary>
    public static FileKind Require(string path, string what = "file")
    {
        if (!File.Exists(path))
            throw new InitPruneException($"{what} '{OneLine(path)}' does not exist: check the path");
        FileKind kind;
        string description;
        try
        {
            (kind, description) = Detect(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InitPruneException($"cannot read '{OneLine(path)}': {OneLine(e.Message)}", inner: e);
        }
        return kind == FileKind.Other ? throw Unreadable(path, description) : kind;
    }

    static (FileKind, string) Zip(string path)
    {
        try
        {
            using var archive = ZipFile.OpenRead(path);
            var names = archive.Entries.Select(e => e.FullName).ToList();
            if (names.Any(n => n.EndsWith("/constants.pkl", StringComparison.Ordinal) || n.Contains("/code/", StringComparison.Ordinal)))
                return (FileKind.Other, "a TorchScript archive (torch.jit.save)|: torch.save(model.state_dict()) instead");
            if (names.Any(n => n == "data.pkl" || n.EndsWith("/data.pkl", StringComparison.Ordinal)))
                return (FileKind.PyTorchZip, "a PyTorch .pt checkpoint (zip)");
            if (names.Count > 0 && names.All(n => n.EndsWith(".npy", StringComparison.Ordinal)))
                return (FileKind.Other, "a NumPy .npz archive");
            return (FileKind.Other, "a zip archive without a PyTorch data.pkl");
        }
        catch (InvalidDataException)
        {
            return (FileKind.Other, "a damaged zip archive");
        }
    }

    static bool StartsWith(byte[] head, ReadOnlySpan<byte> magic) => head.AsSpan().StartsWith(magic);

    static bool IsText(byte[] head)
    {
        var n = head.Length;
        // A UTF-8 sequence cut at the end of the sample is still text.
        for (var cut = 0; cut < 4 && n > 0; cut++)
        {
            if (Utf8IsValid(head.AsSpan(0, n))) return head.AsSpan(0, n).IndexOfAnyInRange((byte)0, (byte)8) < 0;
            n--;
        }
        return false;
    }

    static bool Utf8IsValid(ReadOnlySpan<byte> bytes) => System.Text.Unicode.Utf8.IsValid(bytes);

    internal static string OneLine(string text) =>
        text.Any(char.IsControl) ? new StringBuilder(text.Length).Append([.. text.Select(c => char.IsControl(c) ? ' ' : c)]).ToString() : text;
}
