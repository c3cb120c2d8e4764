using System.Text.RegularExpressions;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Theory;
using InitPrune.Training;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// Turns one combination of a spec's values into a <see cref="SweepEntry"/>: checks every value (errors name the
/// file, the field path and the line), canonicalizes names, records the coordinates, and normalizes the settings
/// so that runs that compute the same thing get the same <see cref="RunConfig.Id"/>.
/// </summary>
internal sealed partial class RunNormalizer(string file, DatasetResolver datasets)
{
    public const string Dense = "none";
    public const string Imp = "imp";

    /// <summary>Every coordinate path, in order: label, seed, then the spec's fields.</summary>
    public static IReadOnlyList<string> CoordinatePaths { get; } = ["label", "seed", .. SpecSchema.Fields.Select(f => f.Path)];

    public SweepEntry Build(string? variant, IReadOnlyDictionary<string, Leaf> leaves, Leaf seed, bool epochsGiven)
    {
        var v = leaves.ToDictionary(kv => kv.Key, kv => kv.Value.Value);
        Canonicalize(v, leaves);
        var dataset = datasets.Resolve((string)v["data.name"]!, (string?)v["data.fallback"], leaves["data.name"]);
        if (!epochsGiven) v["train.epochs"] = EpochsFromSteps(v, leaves, dataset);
        CheckRanges(v, leaves, dataset);

        var method = (string)v["prune.method"]!;
        var rescale = (string)v["prune.rescale"]!;
        var label = variant ?? (rescale == "none" ? method : $"{method} + {rescale}");
        var coordinates = new Dictionary<string, string> { ["label"] = label, ["seed"] = SpecSchema.Format(seed.Value) };
        foreach (var field in SpecSchema.Fields) coordinates[field.Path] = SpecSchema.Format(v[field.Path]);

        var config = Normalize(v, dataset, (long)seed.Value!);
        CheckWithLibraryValidators(config);
        return new SweepEntry(config, label, coordinates);
    }

    /// <summary>Lower-case registry names; unknown names are errors listing the known ones.</summary>
    void Canonicalize(Dictionary<string, object?> v, IReadOnlyDictionary<string, Leaf> at)
    {
        v["data.name"] = DatasetName("data.name", v, at);
        if (v["data.fallback"] is string) v["data.fallback"] = DatasetName("data.fallback", v, at);
        v["data.augment"] = OneOf("data.augment", TrainConfig.Augmentations, v, at);
        v["model.name"] = ModelName(v, at);
        v["model.activation"] = OneOf("model.activation", Activations.Names, v, at);
        v["model.padding"] = Text(v, "model.padding") switch
        {
            "zeros" or "zero" => "zeros",
            "circular" => "circular",
            var p => throw Unknown("model.padding", p, at, ["zeros", "circular"]),
        };
        v["model.shortcut"] = Text(v, "model.shortcut") is "a" or "b" ? Text(v, "model.shortcut").ToUpperInvariant()
            : throw Unknown("model.shortcut", Text(v, "model.shortcut"), at, ["A", "B"]);
        v["init.name"] = OneOf("init.name", Initializers.Names, v, at);
        v["prune.method"] = Text(v, "prune.method") switch
        {
            Dense or Imp => Text(v, "prune.method"),
            var m when PrunerRegistry.Names.Contains(m) => PrunerRegistry.Create(m).Name,
            var m => throw Unknown("prune.method", m, at, [.. PrunerRegistry.Names, Imp, Dense]),
        };
        v["prune.scope"] = Text(v, "prune.scope") switch
        {
            "global" => "global",
            "layer-wise" or "layerwise" or "layer_wise" => "layer-wise",
            var s => throw Unknown("prune.scope", s, at, ["global", "layer-wise"]),
        };
        try
        {
            RescaleSpec.Parse(Text(v, "prune.rescale"));
            v["prune.rescale"] = Text(v, "prune.rescale");
        }
        catch (InitPruneException e)
        {
            throw Fail($"prune.rescale = '{v["prune.rescale"]}' is unknown{at["prune.rescale"].At}: {e.Message}");
        }
        v["train.schedule"] = OneOf("train.schedule", TrainConfig.Schedules, v, at);
    }

    string DatasetName(string path, Dictionary<string, object?> v, IReadOnlyDictionary<string, Leaf> at) =>
        DatasetResolver.Canonical((string)v[path]!) ?? throw Unknown(path, (string)v[path]!, at, Data.DatasetRegistry.Names);

    string ModelName(Dictionary<string, object?> v, IReadOnlyDictionary<string, Leaf> at)
    {
        var name = Text(v, "model.name");
        if (name == "lenet-300-100") return "lenet300";
        if (ModelRegistry.Names.Contains(name) || VggName().IsMatch(name)) return name;
        if (ResNetName().Match(name) is { Success: true } m)
        {
            int depth = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (depth >= 8 && (depth - 2) % 6 == 0) return name;
            throw Fail($"model.name = '{name}' is unknown{at["model.name"].At}: CIFAR ResNets have depth 6n+2 with n ≥ 1 (resnet20, resnet32, resnet44, resnet56, resnet110, ...)");
        }
        throw Unknown("model.name", name, at, [.. ModelRegistry.Names, "resnetN (N = 6n+2)"]);
    }

    int EpochsFromSteps(Dictionary<string, object?> v, IReadOnlyDictionary<string, Leaf> at, string dataset)
    {
        if (v["train.max_steps"] is not int steps)
            throw Fail("train.epochs is missing: give train.epochs (0 = prune only) or train.max_steps (epochs then cover that many steps)");
        if (steps < 1) throw Impossible("train.max_steps", steps, at, "use at least 1");
        var batch = (int)v["train.batch_size"]!;
        if (batch < 1) throw Impossible("train.batch_size", batch, at, "use at least 1");
        var n = TrainingSamples(v, at, dataset)
            ?? throw Fail($"train.epochs is missing and the size of '{dataset}' is not known here: give train.epochs");
        return (int)Math.Ceiling((double)steps * batch / n);
    }

    /// <summary>Training samples after the subset and the validation hold-out, when the dataset's size is known.</summary>
    int? TrainingSamples(Dictionary<string, object?> v, IReadOnlyDictionary<string, Leaf> at, string dataset)
    {
        var subset = (int?)v["data.train_subset"];
        if (subset is < 1) throw Impossible("data.train_subset", subset, at, "use at least 1 (or leave it out for the whole training set)");
        var validation = (int)v["data.validation"]!;
        if (validation < 0) throw Impossible("data.validation", validation, at, "use 0 (no validation split) or more");
        int? size = DatasetResolver.TrainSize(dataset) is { } full ? Math.Min(full, subset ?? full) : subset;
        if (size is { } s && validation >= s)
            throw Impossible("data.validation", validation, at, $"it must leave training samples: {dataset} has {s} (after data.train_subset)");
        return size - validation;
    }

    void CheckRanges(Dictionary<string, object?> v, IReadOnlyDictionary<string, Leaf> at, string dataset)
    {
        TrainingSamples(v, at, dataset);
        if (v["data.test_subset"] is int test && test < 1) throw Impossible("data.test_subset", test, at, "use at least 1 (or leave it out for the whole test set)");

        var model = Text(v, "model.name");
        if (model is "mlp" or "vcnn")
            foreach (var (path, min) in new[] { ("model.depth", model == "mlp" ? 0 : 1), ("model.width", 1) })
                if (v[path] is not int n || n < min)
                    throw Impossible(path, v[path], at, $"{model} needs {path} ≥ {min}");
        Positive("model.width_multiplier", v, at);
        if (v["model.stable"] is true && !model.StartsWith("resnet", StringComparison.Ordinal))
            throw Impossible("model.stable", true, at, "Stable ResNets only: use a resnetN model or stable: false");

        NonNegative("init.sigma_w", v, at);
        NonNegative("init.sigma_b", v, at);
        NonNegative("init.eta", v, at);
        if (Text(v, "init.name") == "eoc")
            try
            {
                ActivationFunctions.Get(Text(v, "model.activation"));
            }
            catch (InitPruneException e)
            {
                throw Fail($"init.name = 'eoc' needs an activation with an Edge of Chaos{at["model.activation"].At}: {e.Message}");
            }

        var sparsity = (double)v["prune.sparsity"]!;
        if (!(sparsity >= 0 && sparsity < 1)) throw Impossible("prune.sparsity", sparsity, at, "use a value in [0, 1)");
        AtLeastOne("prune.score_batch_size", v, at);
        AtLeastOne("prune.iterations", v, at);
        Positive("prune.temperature", v, at);
        if (!((double)v["prune.alpha"]! is > 0 and <= 1)) throw Impossible("prune.alpha", v["prune.alpha"], at, "use a value in (0, 1]");
        AtLeastOne("prune.rounds", v, at);
        AtLeastOne("prune.round_epochs", v, at);

        if ((int)v["train.epochs"]! < 0) throw Impossible("train.epochs", v["train.epochs"], at, "use 0 (prune only) or more");
        AtLeastOne("train.batch_size", v, at);
        Positive("train.lr", v, at);
        if (!((double)v["train.momentum"]! is >= 0 and < 1)) throw Impossible("train.momentum", v["train.momentum"], at, "use a value in [0, 1)");
        NonNegative("train.weight_decay", v, at);
        Positive("train.gamma", v, at);
        if (v["train.milestones"] is double[] fractions && fractions.Any(f => !(f > 0 && f <= 1)))
            throw Impossible("train.milestones", fractions, at, "milestones are fractions of training in (0, 1], e.g. [0.5, 0.75]");
        if (v["train.max_steps"] is int steps && steps < 1) throw Impossible("train.max_steps", steps, at, "use at least 1 (or leave it out)");
    }

    /// <summary>Irrelevant settings to their defaults, so equal computations share one id.</summary>
    static RunConfig Normalize(Dictionary<string, object?> v, string dataset, long seed)
    {
        var data = SpecSchema.Build<DataSettings>(Section(v, "data")) with { Name = dataset };
        var model = SpecSchema.Build<ModelSettings>(Section(v, "model"));
        var init = SpecSchema.Build<InitSettings>(Section(v, "init"));
        var prune = SpecSchema.Build<PruneSettings>(Section(v, "prune"));
        var train = SpecSchema.Build<TrainSettings>(Section(v, "train"));

        bool sized = model.Name is "mlp" or "vcnn", resnet = model.Name.StartsWith("resnet", StringComparison.Ordinal);
        var defaultModel = new ModelSettings();
        model = model with
        {
            Depth = sized ? model.Depth : null,
            Width = sized ? model.Width : null,
            Padding = model.Name is "mlp" or "lenet300" ? defaultModel.Padding : model.Padding,
            Shortcut = resnet ? model.Shortcut : defaultModel.Shortcut,
        };
        if (init.Name != "correlated") init = init with { Eta = new InitSettings().Eta };
        prune = NormalizePrune(prune);

        bool trains = train.Epochs >= 1 || prune.Method == Imp;
        if (!trains)
        {
            train = new TrainSettings(Epochs: 0);
            data = data with { Augment = new DataSettings().Augment };
        }
        else
        {
            var defaults = new TrainSettings();
            train = train with
            {
                Nesterov = train.Momentum != 0 && train.Nesterov,
                Milestones = train.Schedule == "step" ? train.Milestones ?? [0.5, 0.75] : null,
                Gamma = train.Schedule == "step" ? train.Gamma : defaults.Gamma,
                MaxSteps = train.Epochs >= 1 ? train.MaxSteps : null,
            };
        }
        return new RunConfig(data, model, init, prune, train, seed);
    }

    /// <summary>A dense run (sparsity 0 or method none) is method none with every option at its default; options only the method reads are kept.</summary>
    static PruneSettings NormalizePrune(PruneSettings p)
    {
        var d = new PruneSettings();
        if (p.Method == Dense || p.Sparsity == 0) return d;
        // SynFlow asks for a batch only for its shape (an all-ones input), so its batch size does not matter.
        bool scoresOnData = p.Method != Imp && PrunerRegistry.Create(p.Method) is { NeedsData: true } and not SynFlowScorer;
        return p with
        {
            ScoreBatchSize = scoresOnData ? p.ScoreBatchSize : d.ScoreBatchSize,
            Iterations = p.Method == "synflow" ? p.Iterations : d.Iterations,
            Temperature = p.Method is "grasp" or "grasp-sr" ? p.Temperature : d.Temperature,
            Alpha = p.Method.StartsWith("seed003-", StringComparison.Ordinal) ? p.Alpha : d.Alpha,
            Rounds = p.Method == Imp ? p.Rounds : d.Rounds,
            RoundEpochs = p.Method == Imp ? p.RoundEpochs : d.RoundEpochs,
        };
    }

    /// <summary>The library's own checks on the normalized run, as a backstop for combinations the field checks miss.</summary>
    void CheckWithLibraryValidators(RunConfig config)
    {
        try
        {
            if (config.Prune.Method is not (Dense or Imp)) config.ToPruneSpec().Options!.Validate();
        }
        catch (InitPruneException e)
        {
            throw Fail($"prune: {e.Message} (method {config.Prune.Method}, init.sigma_w {SpecSchema.Format(config.Init.SigmaW)})");
        }
        try
        {
            if (config.Train.Epochs >= 1 || config.Prune.Method == Imp)
                (config.ToTrainConfig() with { Epochs = Math.Max(1, config.Train.Epochs) }).Validate();
        }
        catch (InitPruneException e)
        {
            throw Fail($"train: {e.Message}");
        }
    }

    static Dictionary<string, object?> Section(Dictionary<string, object?> v, string section) =>
        SpecSchema.InSection(section).Where(f => f.Key != SpecSchema.Fallback).ToDictionary(f => f.Key, f => v[f.Path]);

    static string Text(Dictionary<string, object?> v, string path) => ((string)v[path]!).Trim().ToLowerInvariant();

    string OneOf(string path, IEnumerable<string> names, Dictionary<string, object?> v, IReadOnlyDictionary<string, Leaf> at) =>
        names.Contains(Text(v, path)) ? Text(v, path) : throw Unknown(path, Text(v, path), at, names);

    void Positive(string path, Dictionary<string, object?> v, IReadOnlyDictionary<string, Leaf> at)
    {
        if (!((double)v[path]! > 0 && double.IsFinite((double)v[path]!))) throw Impossible(path, v[path], at, "use a finite value > 0");
    }

    void NonNegative(string path, Dictionary<string, object?> v, IReadOnlyDictionary<string, Leaf> at)
    {
        if (!((double)v[path]! >= 0 && double.IsFinite((double)v[path]!))) throw Impossible(path, v[path], at, "use a finite value ≥ 0");
    }

    void AtLeastOne(string path, Dictionary<string, object?> v, IReadOnlyDictionary<string, Leaf> at)
    {
        if ((int)v[path]! < 1) throw Impossible(path, v[path], at, "use at least 1");
    }

    InitPruneException Impossible(string path, object? value, IReadOnlyDictionary<string, Leaf> at, string hint) =>
        Fail($"{path} = {SpecSchema.Format(value)} is impossible{at[path].At}: {hint}");

    InitPruneException Unknown(string path, string value, IReadOnlyDictionary<string, Leaf> at, IEnumerable<string> names) =>
        Fail($"{path} = '{value}' is unknown{at[path].At}: use one of {string.Join(", ", names)}");

    InitPruneException Fail(string message) => SpecError.In(file, message);

    [GeneratedRegex(@"^(3x)?vgg(11|13|16|19)(-bn)?$")]
    private static partial Regex VggName();

    [GeneratedRegex(@"^resnet(\d+)$")]
    private static partial Regex ResNetName();
}
