using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace InitPrune.Engine;

/// <summary>
/// Writes artefacts atomically (a crash never leaves a half-written file) and prepares output folders. A temporary
/// file is named <c>.{file}.{pid}.{random}.tmp</c> in the target's folder, so a later sweep can tell a dead writer's
/// leftovers (<see cref="RemoveStaleTemporaries"/>) from a live writer's file in progress.
/// </summary>
public static class Artifacts
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>A temporary file younger than this is never taken for debris: its writer may be alive on another host.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(1);

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
    /// Writes <paramref name="path"/> through <paramref name="write"/> into a temporary file in the same folder, flushes
    /// it to disk and renames it over <paramref name="path"/>: readers see the old file or the whole new one. When
    /// writing or the rename fails the temporary file is deleted and the old file stays as it was; a file-system error
    /// (read-only folder, full disk, a file where a folder should be) becomes a one-line <see cref="InitPruneException"/>.
    /// </summary>
    public static void WriteAtomic(string path, Action<Stream> write)
    {
        string full, tmp;
        try
        {
            full = Path.GetFullPath(CheckPath(path, "file"));
            var dir = Path.GetDirectoryName(full)!;
            Directory.CreateDirectory(dir);
            tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw CannotWrite(path, e);
        }
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e)
        {
            try
            {
                File.Delete(tmp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // The write's own error is the one to report.
            }
            if (e is IOException or UnauthorizedAccessException) throw CannotWrite(path, e);
            throw;
        }
    }

    static InitPruneException CannotWrite(string path, Exception e) =>
        new($"cannot write '{OneLine(path)}': {OneLine(e.Message)}; check that its folder exists (or can be created), is writable and has free space", inner: e);

    /// <summary>Creates the output folder, turning an impossible path into a one-line error naming <paramref name="option"/>.</summary>
    public static string PrepareOutput(string dir, string option = "--out")
    {
        CheckPath(dir, option);
        try
        {
            if (File.Exists(dir))
                throw new InitPruneException($"{option} '{OneLine(dir)}' is a file, not a folder; give a folder (it is created when missing)");
            Directory.CreateDirectory(dir);
            return Path.GetFullPath(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new InitPruneException($"cannot create output folder '{OneLine(dir)}': {OneLine(e.Message)}; choose another {option}", inner: e);
        }
    }

    /// <summary>Refuses an empty path (or one with a NUL character) given for <paramref name="option"/>; returns it otherwise.</summary>
    public static string CheckPath(string? path, string option)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new InitPruneException($"{option} is empty; give a path");
        if (path.Contains('\0'))
            throw new InitPruneException($"{option} '{OneLine(path.Replace('\0', '?'))}' contains a NUL character; give a valid path");
        return path;
    }

    /// <summary>
    /// Deletes the temporary files (<c>.*.tmp</c>) directly in <paramref name="folder"/> that a dead writer left: those
    /// whose embedded process id is no live process here (or that carry none) and that were last written more than
    /// <see cref="StaleAfter"/> before <paramref name="now"/>. Returns the paths deleted.
    /// </summary>
    public static IReadOnlyList<string> RemoveStaleTemporaries(string folder, DateTime now)
    {
        if (!Directory.Exists(folder)) return [];
        var removed = new List<string>();
        foreach (var file in Directory.EnumerateFiles(folder, ".*.tmp"))
        {
            try
            {
                if (WriterPid(Path.GetFileName(file)) is { } pid && IsAlive(pid)) continue;
                if (now - File.GetLastWriteTimeUtc(file) < StaleAfter) continue;
                File.Delete(file);
                removed.Add(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another sweep removed it first, or it cannot be removed: neither stops this sweep.
            }
        }
        return removed;
    }

    /// <summary>The writer's process id in <c>.{file}.{pid}.{random}.tmp</c> (or <c>.{file}.{pid}.tmp</c>); null when absent.</summary>
    public static int? WriterPid(string tempName)
    {
        var parts = tempName[..^".tmp".Length].Split('.');
        if (parts.Length < 3) return null;
        var candidate = parts[^1].Length == 32 && parts.Length >= 4 ? parts[^2] : parts[^1];
        return candidate.Length is > 0 and <= 10 && candidate.All(char.IsAsciiDigit)
            && int.TryParse(candidate, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    static bool IsAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
