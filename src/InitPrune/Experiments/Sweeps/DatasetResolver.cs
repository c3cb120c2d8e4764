using InitPrune.Data;
using InitPrune.Engine;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// Decides which dataset a spec's runs use: <c>data.name</c> when its files are found, else <c>data.fallback</c>
/// (with a note for the report), else an error (or, without <c>requireData</c>, the name itself and a note). With a
/// data folder chosen (--data-dir, $INITPRUNE_DATA) only that folder is searched and a synthetic fallback is not used.
/// </summary>
internal sealed class DatasetResolver(string file, string? dataDir, bool requireData)
{
    /// <summary>Training-set sizes before subsets, for deriving epochs from <c>train.max_steps</c>.</summary>
    static readonly Dictionary<string, int> TrainSizes = new()
    {
        ["mnist"] = 60000,
        ["fashion-mnist"] = 60000,
        ["cifar10"] = 50000,
        ["cifar100"] = 50000,
        ["tiny-imagenet"] = 100000,
        ["ellipse"] = 8000,
        ["shifted-relu"] = 8000,
    };

    /// <summary>Generated in memory, so always present.</summary>
    static readonly HashSet<string> Synthetic = ["ellipse", "shifted-relu"];

    /// <summary>The data folder the user chose: only it is searched, and the runs' data must come from it.</summary>
    readonly DataRoot.Choice? chosen = DataRoot.Chosen(dataDir);

    readonly Dictionary<(string, string?), string> resolved = [];
    readonly List<string> notes = [];

    public IReadOnlyList<string> Notes => notes;

    /// <summary>The canonical registry name of <paramref name="name"/> (e.g. Fashion_MNIST → fashion-mnist), or null.</summary>
    public static string? Canonical(string name) => DatasetRegistry.Resolve(name);

    /// <summary>Samples in the training split of <paramref name="name"/> before subsets and validation, or null when unknown.</summary>
    public static int? TrainSize(string name) => TrainSizes.TryGetValue(name, out var n) ? n : null;

    /// <summary>The dataset the runs use (both names canonical).</summary>
    public string Resolve(string name, string? fallback, Leaf at)
    {
        if (resolved.TryGetValue((name, fallback), out var known)) return known;
        string used;
        if (Present(name))
            used = name;
        else if (fallback is not null && Present(fallback) && !(chosen is not null && Synthetic.Contains(fallback)))
        {
            used = fallback;
            Note(chosen is null
                ? $"ran on {fallback}: {name} was not found (pass --data-dir to use it)"
                : $"ran on {fallback}: {name} was not found in {chosen.From} {chosen.Folder}");
        }
        else if (!requireData)
        {
            used = name;
            Note($"{name} was not found here");
        }
        else
        {
            var which = fallback is null || Synthetic.Contains(fallback) ? $"data.name = '{name}' was" : $"data.name = '{name}' and data.fallback = '{fallback}' were";
            var unused = fallback is not null && Synthetic.Contains(fallback) ? $" (the synthetic data.fallback '{fallback}' is not used with {chosen!.From})" : "";
            throw SpecError.In(file, $"{which} not found{at.At}{unused}: {MissingReason(name)}");
        }
        return resolved[(name, fallback)] = used;
    }

    bool Present(string name) => Synthetic.Contains(name) || DatasetRegistry.TryFindRoot(name, dataDir) is not null;

    /// <summary>The registry's own explanation (where it looked, how to get the files).</summary>
    string MissingReason(string name)
    {
        try
        {
            DatasetRegistry.Load(name, dataDir);
            return $"{name} appeared while the spec was read; run again";
        }
        catch (InitPruneException e)
        {
            return e.Message;
        }
    }

    void Note(string note)
    {
        if (!notes.Contains(note)) notes.Add(note);
    }
}
