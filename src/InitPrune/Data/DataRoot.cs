namespace InitPrune.Data;

/// <summary>
/// Where dataset files are looked for, in order: the <c>--data-dir</c> folder, <c>$INITPRUNE_DATA</c>,
/// <c>~/.initprune/data</c>, <c>/usr/share/datasets</c>. In each, the files may sit directly or in the
/// dataset's own subfolder (<c>fashion-mnist</c>, <c>mnist</c>, <c>cifar-10-batches-bin</c>, <c>cifar-100-binary</c>, <c>tiny-imagenet-200</c>).
/// </summary>
public static class DataRoot
{
    public const string EnvVar = "INITPRUNE_DATA";
    public const string DefaultSystemFolder = "/usr/share/datasets";

    /// <summary>The system-wide folder, last in the search order (<see cref="DefaultSystemFolder"/>; tests may redirect it).</summary>
    internal static string SystemFolder { get; set; } = DefaultSystemFolder;

    /// <summary><c>~/.initprune/data</c>, from <c>$HOME</c> when set.</summary>
    public static string UserFolder
    {
        get
        {
            var home = Environment.GetEnvironmentVariable("HOME");
            if (string.IsNullOrEmpty(home))
                home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return Path.Combine(home, ".initprune", "data");
        }
    }

    /// <summary>The candidate root folders, in search order, without blanks or repeats.</summary>
    public static IReadOnlyList<string> Candidates(string? dataDir = null) =>
        [.. new[] { dataDir, Environment.GetEnvironmentVariable(EnvVar), UserFolder, SystemFolder }
            .Where(d => !string.IsNullOrWhiteSpace(d))
            .Select(d => Path.GetFullPath(d!))
            .Distinct()];

    /// <summary>Each candidate followed by its <paramref name="subfolder"/>: the folders to try, in order.</summary>
    public static IReadOnlyList<string> SearchFolders(string subfolder, string? dataDir = null) =>
        [.. Candidates(dataDir).SelectMany(c => new[] { c, Path.Combine(c, subfolder) })];

    /// <summary>The first of <see cref="SearchFolders"/> for which <paramref name="holdsDataset"/> is true, or null.</summary>
    public static string? Find(string subfolder, Func<string, bool> holdsDataset, string? dataDir = null) =>
        SearchFolders(subfolder, dataDir).FirstOrDefault(f => Directory.Exists(f) && holdsDataset(f));
}
