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

    /// <summary>Canonical spellings (lower case, aliases, registry names); an unknown name is an error listing the known ones.</summary>
    void Canonicalize(Dictionary<string, object?> v, IReadOnlyDictionary<string, Leaf> at)
    {
        foreach (var field in SpecSchema.Fields)
        {
            v[field.Path] = field.Param.Canonical(v[field.Path]);
            if (field.Kind == ParamKind.Text && v[field.Path] is string name && field.Param.Problem(name) is not null)
                throw field.Path == "model.name" && ResNetName().IsMatch(name)
                    ? Fail($"model.name = '{name}' is unknown{at["model.name"].At}: CIFAR ResNets have depth 6n+2 with n ≥ 1 (resnet20, resnet32, resnet44, resnet56, resnet110, ...)")
                    : Unknown(field.Path, name, at, field.Param.Choices!);
        }
        if (v["data.fallback"] is string fallback)
            v["data.fallback"] = DatasetResolver.Canonical(fallback) ?? throw Unknown("data.fallback", fallback, at, Data.DatasetRegistry.Names);
        var method = (string)v["prune.method"]!;
        if (method != Dense && !PrunerRegistry.Names.Contains(method)) throw Unknown("prune.method", method, at, [.. PrunerRegistry.Names, Dense]);
        try
        {
            RescaleSpec.Parse((string)v["prune.rescale"]!);
        }
        catch (InitPruneException e)
        {
            throw Fail($"prune.rescale = '{v["prune.rescale"]}' is unknown{at["prune.rescale"].At}: {e.Message}");
        }
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

    /// <summary>Every value within its declared range, then the checks that involve several fields.</summary>
    void CheckRanges(Dictionary<string, object?> v, IReadOnlyDictionary<string, Leaf> at, string dataset)
    {
        foreach (var field in SpecSchema.Fields.Where(f => f.Kind != ParamKind.Text))
            if (field.Param.Problem(v[field.Path]) is { } advice) throw Impossible(field.Path, v[field.Path], at, advice);
        TrainingSamples(v, at, dataset);

        var model = (string)v["model.name"]!;
        if (model is "mlp" or "vcnn")
            foreach (var (path, min) in new[] { ("model.depth", model == "mlp" ? 0 : 1), ("model.width", 1) })
                if (v[path] is not int n || n < min)
                    throw Impossible(path, v[path], at, $"{model} needs {path} ≥ {min}");
        if (v["model.stable"] is true && !model.StartsWith("resnet", StringComparison.Ordinal))
            throw Impossible("model.stable", true, at, "Stable ResNets only: use a resnetN model or stable: false");
        if ((string)v["init.name"]! == "eoc")
            try
            {
                ActivationFunctions.Get((string)v["model.activation"]!);
            }
            catch (InitPruneException e)
            {
                throw Fail($"init.name = 'eoc' needs an activation with an Edge of Chaos{at["model.activation"].At}: {e.Message}");
            }
    }

    /// <summary>Irrelevant settings to their defaults, so equal computations share one id.</summary>
    static RunConfig Normalize(Dictionary<string, object?> v, string dataset, long seed)
    {
        var data = SpecSchema.Build<DataSettings>(Section(v, "data")) with { Name = dataset };
        var model = SpecSchema.Build<ModelSettings>(Section(v, "model"));
        var init = SpecSchema.Build<InitSettings>(Section(v, "init"));
        var prune = SpecSchema.Build<PruneSettings>(Section(v, "prune"));
        var train = SpecSchema.Build<TrainSettings>(Section(v, "train"));

        model = Relevant(model, model.Name);
        init = Relevant(init, init.Name);
        prune = NormalizePrune(prune);
        // A model without BatchNorm prunes the same tensors with or without prune_batchnorm.
        if (prune.PruneBatchnorm && !ModelRegistry.HasBatchNorm(model.Name)) prune = prune with { PruneBatchnorm = false };

        if (prune.Method == Dense) train = train with { PreEpochs = 0 };
        bool trains = train.Epochs >= 1 || Trains(prune.Method) || train.PreEpochs >= 1;
        // ‖J‖ tracking: its inputs and span matter only when it is on; without training any K records step 0 alone.
        var tracking = new TrainSettings();
        if (train.JacobianEvery > 0) tracking = tracking with { JacobianEvery = trains ? train.JacobianEvery : 1, JacobianInputs = train.JacobianInputs, JacobianSpan = train.JacobianSpan };
        train = train with { JacobianEvery = tracking.JacobianEvery, JacobianInputs = tracking.JacobianInputs, JacobianSpan = tracking.JacobianSpan };
        if (!trains)
        {
            train = new TrainSettings(Epochs: 0) with { JacobianEvery = tracking.JacobianEvery, JacobianInputs = tracking.JacobianInputs, JacobianSpan = tracking.JacobianSpan };
            data = data with { Augment = new DataSettings().Augment };
        }
        else
        {
            var defaults = new TrainSettings();
            train = train with
            {
                Momentum = train.Optimizer == "sgd" ? train.Momentum : defaults.Momentum,
                Nesterov = train.Optimizer == "sgd" && train.Momentum != 0 && train.Nesterov,
                Beta1 = train.Optimizer is "adam" or "adamw" ? train.Beta1 : defaults.Beta1,
                Beta2 = train.Optimizer is "adam" or "adamw" ? train.Beta2 : defaults.Beta2,
                Eps = train.Optimizer != "sgd" ? train.Eps : defaults.Eps,
                RmspropAlpha = train.Optimizer == "rmsprop" ? train.RmspropAlpha : defaults.RmspropAlpha,
                Milestones = train.Schedule == "step" ? train.Milestones ?? [0.5, 0.75] : null,
                Gamma = train.Schedule == "step" ? train.Gamma : defaults.Gamma,
                MaxSteps = train.Epochs >= 1 ? train.MaxSteps : null,
            };
        }
        return new RunConfig(data, model, init, prune, train, seed);
    }

    /// <summary>Options that do not apply to the section's <paramref name="name"/> (<see cref="OptAttribute.For"/>) at their irrelevant value.</summary>
    static T Relevant<T>(T settings, string name) where T : notnull
    {
        var values = Param.ValuesOf(settings);
        foreach (var p in Param.Of(typeof(T)).Where(p => !p.AppliesTo(name))) values[p.Key] = p.Irrelevant;
        return (T)Param.Build(typeof(T), values);
    }

    /// <summary>
    /// True for a method that trains between pruning rounds (IMP): the training recipe then matters even with 0 epochs.
    /// Edge-popup trains scores with its own options (popup_*), so the recipe matters only when the ticket trains after.
    /// </summary>
    static bool Trains(string method) => method != Dense && PrunerRegistry.Get(method).Trains && !Tickets.EdgePopupMethod.Is(method);

    /// <summary>A dense run (sparsity 0 or method none) is method none with every option at its default; only the options the method declares are kept.</summary>
    static PruneSettings NormalizePrune(PruneSettings p)
    {
        var d = new PruneSettings();
        if (p.Method == Dense || p.Sparsity == 0) return d;
        var method = PrunerRegistry.Get(p.Method);
        // SynFlow asks for a batch only for its shape (an all-ones input), so its batch size does not matter.
        bool scoresOnData = !method.Trains && method.Create!(MethodOptions.Default) is { NeedsData: true } and not SynFlowScorer;
        return p with
        {
            ScoreBatchSize = scoresOnData ? p.ScoreBatchSize : d.ScoreBatchSize,
            ScoreBatches = scoresOnData ? p.ScoreBatches : d.ScoreBatches,
            ScoreBn = scoresOnData ? p.ScoreBn : d.ScoreBn,
            Options = p.MethodOptions.Complete(method),
        };
    }

    /// <summary>The library's own checks on the normalized run, as a backstop for combinations the field checks miss.</summary>
    void CheckWithLibraryValidators(RunConfig config)
    {
        try
        {
            if (config.Prune.Method != Dense && !PrunerRegistry.Get(config.Prune.Method).Trains) PrunerRegistry.Create(config.Prune.Method, config.ToPruneSpec().Options);
            if (Tickets.EdgePopupMethod.Is(config.Prune.Method))
            {
                Tickets.EdgePopupMethod.Config(config.ToPruneSpec());
                if (config.Train.PreEpochs > 0)
                    throw new InitPruneException("pre_epochs does not apply to edge-popup: it finds a ticket in the network at initialization (train.epochs > 0 trains the ticket afterwards)");
            }
            if (config.Prune.Method != Dense) Pruner.CheckAblation(PrunerRegistry.Get(config.Prune.Method), config.ToPruneSpec());
            if (config.Prune.Method != Dense) Pruner.CheckBatchNorm(PrunerRegistry.Get(config.Prune.Method), config.ToPruneSpec());
        }
        catch (InitPruneException e)
        {
            throw Fail($"prune: {e.Message} (method {config.Prune.Method}, init.sigma_w {SpecSchema.Format(config.Init.SigmaW)})");
        }
        try
        {
            if (config.Train.Epochs >= 1 || Trains(config.Prune.Method))
                (config.ToTrainConfig() with { Epochs = Math.Max(1, config.Train.Epochs) }).Validate();
        }
        catch (InitPruneException e)
        {
            throw Fail($"train: {e.Message}");
        }
    }

    static Dictionary<string, object?> Section(Dictionary<string, object?> v, string section) =>
        SpecSchema.InSection(section).Where(f => f.Key != SpecSchema.Fallback).ToDictionary(f => f.Key, f => v[f.Path]);

    InitPruneException Impossible(string path, object? value, IReadOnlyDictionary<string, Leaf> at, string hint) =>
        Fail($"{path} = {SpecSchema.Format(value)} is impossible{at[path].At}: {hint}");

    InitPruneException Unknown(string path, string value, IReadOnlyDictionary<string, Leaf> at, IEnumerable<string> names) =>
        Fail($"{path} = '{value}' is unknown{at[path].At}: use one of {string.Join(", ", names)}");

    InitPruneException Fail(string message) => SpecError.In(file, message);

    [GeneratedRegex(@"^resnet(\d+)$")]
    private static partial Regex ResNetName();
}
