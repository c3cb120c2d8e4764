using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using InitPrune.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.IO;

/// <summary>
/// Reads and writes the Hugging Face safetensors format: an 8-byte little-endian header length N, N bytes of
/// UTF-8 JSON (space-padded so that 8 + N is a multiple of 8), then the little-endian, C-contiguous tensor data.
/// </summary>
/// <remarks>
/// Save lays tensors out as the reference library does: by descending dtype (its order I64, F64, F32, I32, BF16,
/// F16, I16, I8, U8, BOOL, which keeps every tensor aligned to its element size), then by name (ordinal);
/// metadata keys are written in ordinal order. The same input therefore always gives the same bytes.
/// </remarks>
public static class Safetensors
{
    const string MetadataKey = "__metadata__";
    const long MaxHeaderBytes = 100_000_000;
    const int CopyBuffer = 1 << 20;

    /// <summary>Safetensors dtype names with their torch types, in the reference library's descending order.</summary>
    static readonly (string Name, ScalarType Type, int Size)[] Dtypes =
    [
        ("I64", ScalarType.Int64, 8),
        ("F64", ScalarType.Float64, 8),
        ("F32", ScalarType.Float32, 4),
        ("I32", ScalarType.Int32, 4),
        ("BF16", ScalarType.BFloat16, 2),
        ("F16", ScalarType.Float16, 2),
        ("I16", ScalarType.Int16, 2),
        ("I8", ScalarType.Int8, 1),
        ("U8", ScalarType.Byte, 1),
        ("BOOL", ScalarType.Bool, 1),
    ];

    static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Writes <paramref name="tensors"/> (from any device, any layout) and optional string metadata to
    /// <paramref name="path"/>, atomically: a temporary file in the same folder replaces the target only when complete.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        EnsureLittleEndian();
        if (tensors.ContainsKey(MetadataKey))
            throw new InitPruneException($"cannot save a tensor named '{MetadataKey}' to '{OneLine(path)}': the format reserves that name; rename the tensor");
        using var scope = NewDisposeScope();
        var entries = tensors
            .Select(kv => (Name: kv.Key, Index: DtypeIndex(kv.Key, kv.Value), Data: kv.Value.detach().cpu().contiguous()))
            .OrderBy(e => e.Index)
            .ThenBy(e => e.Name, StringComparer.Ordinal)
            .ToList();
        var header = Header(entries.Select(e => (e.Name, Dtypes[e.Index].Name, e.Data.shape, e.Data.NumberOfElements * Dtypes[e.Index].Size)), metadata);

        Artifacts.WriteAtomic(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var e in entries)
                e.Data.WriteBytesToStream(stream, CopyBuffer);
        });
    }

    /// <summary>Reads every tensor of a safetensors file onto <see cref="Compute.Device"/>, in file order; the caller owns (disposes) them.</summary>
    public static TensorDict Load(string path) => LoadWithMetadata(path).Tensors;

    /// <summary>The one-line error when <paramref name="path"/> is not an existing file.</summary>
    public static void RequireFile(string path)
    {
        if (!File.Exists(path))
            throw new InitPruneException($"safetensors file '{OneLine(path)}' does not exist: check the path");
    }

    /// <summary>Reads every tensor (onto <see cref="Compute.Device"/>, owned by the caller) and the <c>__metadata__</c> map (empty when absent).</summary>
    public static (TensorDict Tensors, Dictionary<string, string> Metadata) LoadWithMetadata(string path)
    {
        EnsureLittleEndian();
        RequireFile(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBuffer);
            return Read(stream, path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InitPruneException($"cannot read safetensors file '{OneLine(path)}': {OneLine(ex.Message)}", inner: ex);
        }
    }

    static (TensorDict, Dictionary<string, string>) Read(FileStream stream, string path)
    {
        var fileLength = stream.Length;
        if (fileLength < 8)
            throw Corrupt(path, $"it is {fileLength} bytes long, shorter than the 8-byte header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
            throw Corrupt(path, $"its header length {headerLength} is over the {MaxHeaderBytes}-byte limit");
        if ((long)headerLength > fileLength - 8)
            throw Corrupt(path, $"its header length {headerLength} runs past the end of the {fileLength}-byte file");
        var header = new byte[headerLength];
        stream.ReadExactly(header);

        var (infos, metadata) = ParseHeader(header, path);
        infos.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        var dataLength = fileLength - 8 - (long)headerLength;
        long expected = 0;
        foreach (var t in infos)
        {
            if (t.Begin != expected)
                throw Corrupt(path, t.Begin > expected
                    ? $"the data has a gap before tensor '{OneLine(t.Name)}' (bytes {expected} to {t.Begin} belong to no tensor)"
                    : $"tensor '{OneLine(t.Name)}' overlaps the tensor before it (it starts at {t.Begin}, before {expected})");
            if (t.End < t.Begin || t.End > dataLength)
                throw Corrupt(path, $"tensor '{OneLine(t.Name)}' has data_offsets [{t.Begin}, {t.End}] outside the {dataLength}-byte data region");
            var size = ByteSize(t, path);
            if (t.End - t.Begin != size)
                throw Corrupt(path, $"tensor '{OneLine(t.Name)}' has data_offsets [{t.Begin}, {t.End}] ({t.End - t.Begin} bytes) but {t.Dtype} {Shape(t.Shape)} needs {size} bytes");
            expected = t.End;
        }
        if (expected != dataLength)
            throw Corrupt(path, $"the tensors cover {expected} bytes but the data region holds {dataLength} bytes");

        using var tensors = new TensorDict();
        foreach (var t in infos)
            tensors.Add(t.Name, ReadTensor(stream, t, path));
        return (tensors.TakeAll(), metadata);
    }

    static Tensor ReadTensor(FileStream stream, TensorInfo info, string path)
    {
        var type = Dtypes[info.DtypeIndex].Type;
        var cpu = empty(info.Shape, dtype: type == ScalarType.Bool ? ScalarType.Byte : type, device: CPU);
        try
        {
            cpu.ReadBytesFromStream(stream, CopyBuffer);
            if (type == ScalarType.Bool)
            {
                using (var bad = cpu.gt(1).any())
                {
                    if (bad.item<bool>())
                        throw Corrupt(path, $"BOOL tensor '{OneLine(info.Name)}' holds bytes other than 0 and 1");
                }
                var bools = cpu.to(ScalarType.Bool);
                cpu.Dispose();
                cpu = bools;
            }
            if (Compute.Device.type == DeviceType.CPU)
                return cpu;
            var moved = cpu.to(Compute.Device);
            cpu.Dispose();
            return moved;
        }
        catch
        {
            cpu.Dispose();
            throw;
        }
    }

    sealed record TensorInfo(string Name, string Dtype, int DtypeIndex, long[] Shape, long Begin, long End);

    static (List<TensorInfo>, Dictionary<string, string>) ParseHeader(byte[] header, string path)
    {
        if (!Utf8.IsValid(header))
            throw Corrupt(path, "its header is not valid UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException ex)
        {
            throw Corrupt(path, $"its header is not valid JSON ({OneLine(ex.Message)})");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw Corrupt(path, "its header is not a JSON object");
            var infos = new List<TensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw Corrupt(path, $"its header names '{OneLine(property.Name)}' twice");
                if (property.Name == MetadataKey)
                    ReadMetadata(property.Value, metadata, path);
                else
                    infos.Add(ReadInfo(property.Name, property.Value, path));
            }
            return (infos, metadata);
        }
    }

    static void ReadMetadata(JsonElement element, Dictionary<string, string> metadata, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw Corrupt(path, $"its '{MetadataKey}' is not a JSON object of strings");
        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw Corrupt(path, $"its '{MetadataKey}' entry '{OneLine(entry.Name)}' is not a string");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw Corrupt(path, $"its '{MetadataKey}' names '{OneLine(entry.Name)}' twice");
        }
    }

    static TensorInfo ReadInfo(string name, JsonElement element, string path)
    {
        var quoted = $"tensor '{OneLine(name)}'";
        if (element.ValueKind != JsonValueKind.Object)
            throw Corrupt(path, $"{quoted} is not described by a JSON object");
        if (!element.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Corrupt(path, $"{quoted} lacks a string 'dtype'");
        var dtype = dtypeElement.GetString()!;
        var index = Array.FindIndex(Dtypes, d => d.Name == dtype);
        if (index < 0)
            throw Corrupt(path, $"{quoted} has dtype '{OneLine(dtype)}', which is not supported (use one of {string.Join(", ", Dtypes.Select(d => d.Name))})");
        if (!element.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Corrupt(path, $"{quoted} lacks a 'shape' array");
        var shape = shapeElement.EnumerateArray().Select(d => NonNegative(d, $"{quoted} has a 'shape' entry", path)).ToArray();
        if (!element.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw Corrupt(path, $"{quoted} lacks a two-number 'data_offsets' array");
        var begin = NonNegative(offsets[0], $"{quoted} has a 'data_offsets' entry", path);
        var end = NonNegative(offsets[1], $"{quoted} has a 'data_offsets' entry", path);
        return new TensorInfo(name, dtype, index, shape, begin, end);
    }

    static long NonNegative(JsonElement element, string what, string path) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out var value) && value >= 0
            ? value
            : throw Corrupt(path, $"{what} that is not a non-negative integer ({OneLine(element.GetRawText())})");

    static long ByteSize(TensorInfo info, string path)
    {
        try
        {
            return checked(info.Shape.Aggregate(1L, (n, d) => n * d) * Dtypes[info.DtypeIndex].Size);
        }
        catch (OverflowException)
        {
            throw Corrupt(path, $"tensor '{OneLine(info.Name)}' has shape {Shape(info.Shape)}, too large to address");
        }
    }

    static byte[] Header(IEnumerable<(string Name, string Dtype, long[] Shape, long Bytes)> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var kv in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    json.WriteString(kv.Key, kv.Value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape, bytes) in entries)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (var d in shape)
                    json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        var padding = (int)((8 - buffer.Length % 8) % 8);
        for (var i = 0; i < padding; i++)
            buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    static int DtypeIndex(string name, Tensor tensor)
    {
        var index = Array.FindIndex(Dtypes, d => d.Type == tensor.dtype);
        return index >= 0
            ? index
            : throw new InitPruneException($"cannot save tensor '{OneLine(name)}' of type {tensor.dtype} as safetensors: convert it to one of {string.Join(", ", Dtypes.Select(d => d.Type))}");
    }

    static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors I/O needs a little-endian machine");
    }

    /// <summary>A file that is not valid safetensors; the inner <see cref="InvalidDataException"/> holds just the problem.</summary>
    static InitPruneException Corrupt(string path, string problem) =>
        new($"safetensors file '{OneLine(path)}' is not valid: {problem}; re-create it with a safetensors writer", inner: new InvalidDataException(problem));

    static string Shape(long[] shape) => $"[{string.Join(", ", shape)}]";

    /// <summary>Keeps a message on one line whatever a file or tensor name contains.</summary>
    static string OneLine(string text)
    {
        if (!text.Any(char.IsControl))
            return text;
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
            sb.Append(char.IsControl(c) ? ' ' : c);
        return sb.ToString();
    }
}
