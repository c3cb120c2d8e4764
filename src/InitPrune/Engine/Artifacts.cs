using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace InitPrune.Engine;

/// <summary>Writes summaries as JSON, atomically (a crash never leaves a half-written file).</summary>
public static class Artifacts
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, Json);

    public static void WriteJson<T>(string path, T value) => WriteAllTextAtomic(path, ToJson(value) + "\n");

    public static void WriteAllTextAtomic(string path, string text) =>
        WriteAtomic(path, s =>
        {
            using var w = new StreamWriter(s, new UTF8Encoding(false), leaveOpen: true);
            w.Write(text);
        });

    public static void WriteAllBytesAtomic(string path, byte[] bytes) => WriteAtomic(path, s => s.Write(bytes));

    /// <summary>
    /// Writes <paramref name="path"/> through <paramref name="write"/> into a temporary file in the same folder, then
    /// renames it over <paramref name="path"/>: readers see the old file or the whole new one. When writing or the
    /// rename fails the temporary file is deleted and the exception passes on; the old file stays as it was.
    /// </summary>
    public static void WriteAtomic(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
                write(stream);
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
    }

    /// <summary>Creates the output folder, turning an impossible path into a one-line error.</summary>
    public static string PrepareOutput(string dir)
    {
        try
        {
            Directory.CreateDirectory(dir);
            return Path.GetFullPath(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InitPruneException($"cannot create output folder '{dir}': {e.Message}; choose another --out");
        }
    }
}
