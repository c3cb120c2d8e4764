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

    public static void WriteAllTextAtomic(string path, string text)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
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
