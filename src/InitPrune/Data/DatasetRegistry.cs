using InitPrune.Engine;

namespace InitPrune.Data;

/// <summary>The datasets known by name: five read from files (see <see cref="DataRoot"/>) and two synthetic.</summary>
public static class DatasetRegistry
{
    sealed record FileSource(string Subfolder, IReadOnlyList<string> Files, Func<string, string, bool> Has, Func<string, DatasetSplit> Load, string HowToGet);

    const string PointAt = "pass --data-dir or set " + DataRoot.EnvVar + " to the folder holding them";

    static readonly Dictionary<string, FileSource> FileSources = new()
    {
        ["fashion-mnist"] = Idx("fashion-mnist", Normalization.FashionMnist,
            "install them with 'sudo apt-get install dataset-fashion-mnist', or " + PointAt),
        ["mnist"] = Idx("mnist", Normalization.Mnist,
            "download the four official MNIST files (from the MNIST page or a mirror) and " + PointAt),
        ["cifar10"] = new("cifar-10-batches-bin", [.. CifarReader.Cifar10TrainFiles, CifarReader.Cifar10TestFile],
            (dir, f) => File.Exists(Path.Combine(dir, f)), CifarReader.LoadCifar10,
            "download the CIFAR-10 binary version (cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html), extract it and " + PointAt),
        ["cifar100"] = new("cifar-100-binary", [CifarReader.Cifar100TrainFile, CifarReader.Cifar100TestFile],
            (dir, f) => File.Exists(Path.Combine(dir, f)), dir => CifarReader.LoadCifar100(dir),
            "download the CIFAR-100 binary version (cifar-100-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html), extract it and " + PointAt),
        ["tiny-imagenet"] = new(TinyImageNetReader.Subfolder, [TinyImageNetReader.WnidsFile, TinyImageNetReader.TrainFolder + "/", TinyImageNetReader.ValAnnotationsFile],
            FileOrFolderExists, TinyImageNetReader.Load, TinyImageNetReader.HowToGet + " to the folder holding them"),
    };

    static readonly Dictionary<string, Func<int, DatasetSplit>> SyntheticSources = new()
    {
        ["ellipse"] = seed => Synthetic.Ellipse(seed),
        ["shifted-relu"] = seed => Synthetic.ShiftedRelu(seed),
    };

    public static IReadOnlyList<string> Names { get; } = [.. FileSources.Keys, .. SyntheticSources.Keys];

    /// <summary>Sample shape and output count of each dataset's standard release (what a model is checked against before any data is read).</summary>
    static readonly Dictionary<string, (long[] SampleShape, long Outputs)> Nominal = new()
    {
        ["fashion-mnist"] = ([1, 28, 28], 10),
        ["mnist"] = ([1, 28, 28], 10),
        ["cifar10"] = ([3, 32, 32], 10),
        ["cifar100"] = ([3, 32, 32], 100),
        ["tiny-imagenet"] = ([3, TinyImageNetReader.Side, TinyImageNetReader.Side], 200),
        ["ellipse"] = ([2], 4),
        ["shifted-relu"] = ([1], 1),
    };

    /// <summary>
    /// The sample shape and number of outputs (classes, or 1 for regression) of <paramref name="name"/>'s standard
    /// release, without reading any file; an unknown name is the one-line error.
    /// </summary>
    public static (long[] SampleShape, long Outputs) NominalShape(string name)
    {
        var (shape, outputs) = Nominal[Canonical(name)];
        return ([.. shape], outputs);
    }

    /// <summary>Loads <paramref name="name"/>; <paramref name="seed"/> only matters for the synthetic datasets.</summary>
    public static DatasetSplit Load(string name, string? dataDir = null, int seed = 0)
    {
        var key = Canonical(name);
        if (SyntheticSources.TryGetValue(key, out var make))
            return make(seed);
        return FileSources[key].Load(FindRoot(key, dataDir));
    }

    /// <summary>The folder holding all of <paramref name="name"/>'s files, or null (always null for synthetic datasets).</summary>
    public static string? TryFindRoot(string name, string? dataDir = null)
    {
        var key = Canonical(name);
        return FileSources.TryGetValue(key, out var s) ? DataRoot.Find(s.Subfolder, dir => s.Files.All(f => s.Has(dir, f)), dataDir) : null;
    }

    /// <summary>The folder holding all of <paramref name="name"/>'s files; throws the one-line not-found error when there is none.</summary>
    public static string FindRoot(string name, string? dataDir = null)
    {
        var key = Canonical(name);
        var source = FileSources.TryGetValue(key, out var s) ? s : throw new InitPruneException($"{key} is synthetic: it has no folder");
        return TryFindRoot(key, dataDir) ?? throw Missing(key, source, dataDir);
    }

    /// <summary>Whether <paramref name="name"/> exists in <paramref name="dir"/>: a folder when it ends in '/', else a file.</summary>
    static bool FileOrFolderExists(string dir, string name) =>
        name.EndsWith('/') ? Directory.Exists(Path.Combine(dir, name)) : File.Exists(Path.Combine(dir, name));

    static FileSource Idx(string subfolder, Normalization normalization, string howToGet) =>
        new(subfolder, [.. MnistLike.Files.Select(f => f + "(.gz)")], (dir, f) => MnistLike.Find(dir, f.Replace("(.gz)", "")) != null,
            dir => MnistLike.Load(dir, subfolder, normalization), howToGet);

    /// <summary>The registry name of <paramref name="name"/> in any spelling (e.g. Fashion_MNIST → fashion-mnist), or null.</summary>
    public static string? Resolve(string name)
    {
        var squeezed = name.Trim().ToLowerInvariant().Replace("-", "").Replace("_", "");
        return Names.FirstOrDefault(n => n.Replace("-", "") == squeezed);
    }

    static string Canonical(string name) =>
        Resolve(name) ?? throw new InitPruneException($"unknown dataset '{name}': use one of {string.Join(", ", Names)}");

    static InitPruneException Missing(string name, FileSource s, string? dataDir)
    {
        if (DataRoot.Chosen(dataDir) is { } chosen)
            return DataError.Create($"{name} not found in {chosen.From} {chosen.Folder}: {MissingIn(chosen.Folder, s)}; {s.HowToGet}");
        var partial = DataRoot.SearchFolders(s.Subfolder, dataDir)
            .Where(Directory.Exists)
            .Select(dir => (dir, missing: s.Files.Where(f => !s.Has(dir, f)).ToList()))
            .FirstOrDefault(p => p.missing.Count < s.Files.Count);
        var note = partial.dir is null ? "" : $" ({partial.dir} lacks {string.Join(", ", partial.missing)})";
        return DataError.Create(
            $"{name} not found: expected {string.Join(", ", s.Files)} in one of {string.Join(", ", DataRoot.Candidates(dataDir))} " +
            $"(directly or in a {s.Subfolder}/ subfolder){note}; {s.HowToGet}");
    }

    /// <summary>Why the folder the user chose does not hold the dataset: it is absent, a file, or lacks some files.</summary>
    static string MissingIn(string folder, FileSource s)
    {
        if (File.Exists(folder)) return "it is a file, not a folder";
        if (!Directory.Exists(folder)) return "the folder does not exist";
        var (dir, missing) = new[] { folder, Path.Combine(folder, s.Subfolder) }
            .Where(Directory.Exists)
            .Select(d => (dir: d, missing: s.Files.Where(f => !s.Has(d, f)).ToList()))
            .MinBy(p => p.missing.Count);
        return $"{dir} lacks {string.Join(", ", missing)} (only that folder is searched, directly and in its {s.Subfolder}/ subfolder)";
    }
}
