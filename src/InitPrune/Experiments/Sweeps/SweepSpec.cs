namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// A spec file expanded at one scale: its runs in a fixed order (variants, then fields in declaration order, seeds
/// innermost), each with its row label and coordinates, plus the report layout and the notes the report must show.
/// </summary>
public sealed record SweepSpec(
    string Name,
    string Scale,
    string Description,
    string Reproduces,
    ReportLayout Layout,
    IReadOnlyList<SweepEntry> Entries,
    IReadOnlyList<string> Notes,
    string SpecText,
    string SourcePath)
{
    /// <summary><c>name@scale</c>, the sweep's name in a results store.</summary>
    public string Key => $"{Name}@{Scale}";

    /// <summary>The longest key a spec can give (name, '@', scale).</summary>
    public const int MaxKeyLength = SpecReader.MaxNameLength + 1 + SpecReader.MaxScaleLength;

    /// <summary>
    /// A sweep key as a file or folder name: the key itself for any key a spec can give, a safe form
    /// (<see cref="Engine.FileNames.Safe"/>) of a damaged or hostile store's key.
    /// </summary>
    public static string FileName(string key) => Engine.FileNames.Safe(key, MaxKeyLength);

    public SweepInfo Info => new(Key, Description, Reproduces, Layout, Notes, SpecText);

    /// <summary>The runs to compute: one per <see cref="RunConfig.Id"/>, in order of first occurrence.</summary>
    public IReadOnlyList<RunConfig> DistinctRuns => [.. Entries.Select(e => e.Config).DistinctBy(c => c.Id)];
}
