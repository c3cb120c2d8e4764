using System.Collections;
using System.IO.Compression;
using InitPrune.Engine;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace InitPrune.IO;

/// <summary>
/// PyTorch's zip checkpoints (<c>torch.save(model.state_dict(), "x.pt")</c>), read and written with TorchSharp.PyBridge.
/// A checkpoint that wraps the state_dict in a dict (<c>{"state_dict": ..., "epoch": ...}</c>, also <c>model_state_dict</c>,
/// <c>model</c>, <c>net</c>) is read through that entry.
/// </summary>
public static class PyTorchCheckpoint
{
    static readonly string[] Wrappers = ["state_dict", "model_state_dict", "model", "net"];

    /// <summary>Reads every tensor onto <see cref="Compute.Device"/>, ordered by name (ordinal); the caller owns (disposes) them.</summary>
    public static TensorDict Load(string path)
    {
        Hashtable table;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            using var stream = Compressed(file) ? Repack(file) : null;
            table = PyTorchUnpickler.UnpickleStateDict(stream ?? (Stream)file, leaveOpen: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InitPruneException($"cannot read '{CheckpointFormat.OneLine(path)}': {CheckpointFormat.OneLine(e.Message)}", inner: e);
        }
        catch (Exception e)
        {
            var reason = e is NotImplementedException && e.Message.Contains("entire model", StringComparison.Ordinal)
                ? "it holds a whole pickled model, not a state_dict; torch.save(model.state_dict()) instead"
                : $"it holds something other than a state_dict of tensors ({e.GetType().Name}: {CheckpointFormat.OneLine(FirstLine(e.Message))})";
            throw new InitPruneException($"PyTorch checkpoint '{CheckpointFormat.OneLine(path)}' cannot be read: {reason}", inner: e);
        }
        var tensors = Tensors(table);
        if (tensors.Count == 0 && Wrappers.Select(w => table[w]).OfType<Hashtable>().FirstOrDefault() is { } inner)
            tensors = Tensors(inner);
        using var result = new TensorDict();
        try
        {
            foreach (var (name, t) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var owned = t;
                if (Compute.Device.type != DeviceType.CPU)
                {
                    owned = t.to(Compute.Device);
                    t.Dispose();
                }
                tensors.Remove(name);
                result.Add(name, owned);
            }
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
        return result.TakeAll();
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> (any device) in the given order as a zip checkpoint that <c>torch.load</c> reads into
    /// a dict for <c>load_state_dict</c>, atomically (a temporary file replaces the target only when complete).
    /// </summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        using var scope = NewDisposeScope();
        var dict = new OrderedDictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in tensors)
            if (!dict.TryAdd(name, t.detach().cpu().contiguous().clone()))
                throw new InitPruneException($"cannot save two tensors named '{CheckpointFormat.OneLine(name)}' to '{CheckpointFormat.OneLine(path)}'");
        using var pickled = new MemoryStream();
        PyTorchPickler.PickleStateDict(pickled, dict, leaveOpen: true);
        pickled.Position = 0;
        using var stored = Repack(pickled);
        Artifacts.WriteAtomic(path, stored.CopyTo);
    }

    /// <summary>Whether any entry of the zip is compressed (PyTorch stores them; PyBridge's writer deflates).</summary>
    static bool Compressed(Stream zip)
    {
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Read, leaveOpen: true))
        {
            if (archive.Entries.All(e => e.CompressedLength == e.Length)) return Rewind(zip, false);
        }
        return Rewind(zip, true);
    }

    static bool Rewind(Stream s, bool value)
    {
        s.Position = 0;
        return value;
    }

    /// <summary>
    /// The same archive with every entry stored uncompressed and dated 1980-01-01, as PyTorch writes them: reading a
    /// stored entry gives whole tensors (PyBridge's reads of a deflate stream can come back short), and the same tensors
    /// always give the same bytes.
    /// </summary>
    static MemoryStream Repack(Stream source)
    {
        var result = new MemoryStream();
        using (var input = new ZipArchive(source, ZipArchiveMode.Read, leaveOpen: true))
        using (var output = new ZipArchive(result, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in input.Entries)
            {
                var copy = output.CreateEntry(entry.FullName, CompressionLevel.NoCompression);
                copy.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);
                using var from = entry.Open();
                using var to = copy.Open();
                from.CopyTo(to);
            }
        }
        result.Position = 0;
        return result;
    }

    static Dictionary<string, Tensor> Tensors(Hashtable table)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in table)
            if (e.Key is string name && e.Value is Tensor t) tensors[name] = t;
        return tensors;
    }

    static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
