namespace InitPrune.Data;

/// <summary>
/// Where dataset files are looked for. A folder the user names (<c>--data-dir</c>, else <c>$INITPRUNE_DATA</c>) is
/// the only one searched: its datasets are used or the command refuses, never silently read from elsewhere. Without
/// one, <c>~/.initprune/data</c> then <c>/usr/share/datasets</c> are searched. In each, the files may sit directly or
/// in the dataset's own subfolder (<c>fashion-mnist</c>, <c>mnist</c>, <c>cifar-10-batches-bin</c>, <c>cifar-100-binary</c>, <c>tiny-imagenet-200</c>).
/// </summary>
public static class DataRoot
{
    public const string EnvVar = "INITPRUNE_DATA";
    public const string DefaultSystemFolder = "/usr/share/datasets";

    /// <summary>The system-wide folder, last in the search order (<see cref="DefaultSystemFolder"/>; tests may redirect it).</summary>
    internal static string SystemFolder { get; set; } = DefaultSystemFolder;

    /// <summary>A data folder the user chose, and where the choice came from ("--data-dir" or "$INITPRUNE_DATA").</summary>
    public sealed record Choice(string Folder, string From);

    /// <summary>~/.initprune/data, from $HOME when set.</summary>
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

    /// <summary>The folder the user chose: <paramref name="dataDir"/>, else $INITPRUNE_DATA; null when neither is set.</summary>
    public static Choice? Chosen(string? dataDir = null)
    {
        if (!string.IsNullOrWhiteSpace(dataDir)) return new(Path.GetFullPath(dataDir), "--data-dir");
        var env = Environment.GetEnvironmentVariable(EnvVar);
        return string.IsNullOrWhiteSpace(env) ? null : new(Path.GetFullPath(env), "$" + EnvVar);
    }

    /// <summary>The candidate root folders, in search order: the chosen folder alone, else the user and system folders.</summary>
    public static IReadOnlyList<string> Candidates(string? dataDir = null) =>
        Chosen(dataDir) is { } chosen ? [chosen.Folder] : [.. new[] { UserFolder, SystemFolder }.Select(d => Path.GetFullPath(d)).Distinct()];

    /// <summary>Each candidate followed by its <paramref name="subfolder"/>: the folders to try, in order.</summary>
    public static IReadOnlyList<string> SearchFolders(string subfolder, string? dataDir = null) =>
        [.. Candidates(dataDir).SelectMany(c => new[] { c, Path.Combine(c, subfolder) })];

    /// <summary>The first of <see cref="SearchFolders"/> for which <paramref name="holdsDataset"/> is true, or null.</summary>
    public static string? Find(string subfolder, Func<string, bool> holdsDataset, string? dataDir = null) =>
        SearchFolders(subfolder, dataDir).FirstOrDefault(f => Directory.Exists(f) && holdsDataset(f));
}
