using System.Runtime.CompilerServices;

namespace InitPrune.Tests;

/// <summary>The repository checkout the tests were compiled from.</summary>
internal static class Repo
{
    /// <summary>The folder holding InitPrune.slnx above this source file.</summary>
    public static string Root => Find();

    static string Find([CallerFilePath] string source = "")
    {
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(source) ?? ""); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "InitPrune.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"no InitPrune.slnx above {source}");
    }
}
