using System.Globalization;

namespace InitPrune.Engine;

/// <summary>Refuses, before allocating, models that cannot fit in this machine's memory.</summary>
public static class Memory
{
    /// <summary>
    /// Bytes one float32 parameter takes while it is pruned and trained: the weight, its gradient, the SGD momentum
    /// and the mask (or a score), 4 bytes each.
    /// </summary>
    public const double BytesPerParameter = 16;

    /// <summary>Memory this process can still use: the smaller of the host's available memory and the runtime's limit (cgroups).</summary>
    public static long AvailableBytes()
    {
        long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
            if (line is not null && long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out var kib))
                limit = Math.Min(limit, kib * 1024);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No /proc (not Linux): the runtime's figure stands.
        }
        return limit;
    }

    /// <summary>Throws a one-line error when <paramref name="parameters"/> parameters of <paramref name="model"/> would not fit.</summary>
    public static void RequireForModel(string model, double parameters)
    {
        double needed = parameters * BytesPerParameter;
        long available = AvailableBytes();
        if (needed > available)
            throw new InitPruneException(string.Create(CultureInfo.InvariantCulture,
                $"model '{model}' has {parameters:G4} parameters and needs about {Bytes(needed)} to prune and train ({BytesPerParameter:0} bytes per parameter), ") +
                $"but only {Bytes(available)} of memory is available; use a smaller width, depth or --width-multiplier");
    }

    /// <summary>A byte count for people: "3.2 GiB".</summary>
    public static string Bytes(double bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        int u = 0;
        while (bytes >= 1024 && u < units.Length - 1)
        {
            bytes /= 1024;
            u++;
        }
        return bytes >= 1e4
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes:G3} {units[u]}")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes:0.#} {units[u]}");
    }

    /// <summary>Whether <paramref name="e"/> is the runtime or libtorch running out of memory.</summary>
    public static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException || (e is System.Runtime.InteropServices.ExternalException
            && (e.Message.Contains("can't allocate memory", StringComparison.Ordinal) || e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)));

    /// <summary>One line on what ran out: libtorch's own first line (the native stack cut off), or the runtime's.</summary>
    public static string OutOfMemoryLine(Exception e) =>
        e is OutOfMemoryException ? $"the .NET runtime could not allocate (about {Bytes(AvailableBytes())} is available)" : NativeFirstLine(e.Message);

    /// <summary>The first line of a libtorch error, without the native stack ("frame #0 ...") that follows it.</summary>
    public static string NativeFirstLine(string message)
    {
        var text = message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        foreach (var cut in new[] { "frame #0", "Exception raised from" })
            if (text.IndexOf(cut, StringComparison.Ordinal) is > 0 and var i) text = text[..i];
        return text.Trim();
    }
}
