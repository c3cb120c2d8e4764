using System.CommandLine;
using InitPrune.Engine;
using InitPrune.Experiments;
using InitPrune.Experiments.Sweeps;
using InitPrune.Pruning;
using Spectre.Console;

namespace InitPrune.Cli.Commands;

/// <summary>
/// <c>initprune prune</c>. Its options come from the declarations: the prune section (<see cref="PruneSettings"/>), every
/// method's options (<see cref="PrunerRegistry.AllOptions"/>) and, for methods that train (IMP), the training recipe
/// (<see cref="TrainSettings"/>), so a new method's option appears here without touching this file.
/// </summary>
internal sealed class PruneCommand
{
    static readonly string[] RecipeKeys = ["lr", "momentum", "nesterov", "weight_decay", "batch_size", "optimizer", "beta1", "beta2", "eps", "rmsprop_alpha", "label_smoothing", "warmup_steps", "pre_epochs"];

    readonly Shared s = new();
    readonly Declared prune = new(Param.Of(typeof(PruneSettings)), "", "method", "sparsity");
    readonly Declared methodOptions = new(PrunerRegistry.AllOptions,
        p => $"{string.Join(", ", PrunerRegistry.Declaring(p).Select(m => m.Name))}: " + (PrunerRegistry.DefaultsByMethod(p.Key) is { } d ? $"(default {d}) " : ""),
        [.. PrunerRegistry.AllOptions.Where(p => PrunerRegistry.DefaultsByMethod(p.Key) is not null).Select(p => p.Key)]);
    readonly Declared recipe = new(Param.Of(typeof(TrainSettings)).Where(p => RecipeKeys.Contains(p.Key))
        .Concat(Param.Of(typeof(DataSettings)).Where(p => p.Key == "augment")), p => p.Key == "pre_epochs" ? "" : "imp (training rounds) and --pre-epochs: ");
    readonly Option<bool> saveScores = new("--save-scores") { Description = "Also write the scores (scores.safetensors)" };
    readonly Option<string> outDir;

    public Command Command { get; }

    public PruneCommand()
    {
        outDir = s.Out("./initprune-out/prune");
        Command = new Command("prune", "Build and initialize a model, prune it once at initialization, write weights, scoring batch, mask (and scores) as safetensors (or .pt) plus summary.json");
        s.AddData(Command);
        s.AddModel(Command);
        prune.AddTo(Command);
        prune.Options.First().Required = true;
        prune.Options.First().Description = $"Pruning method: {string.Join("; ", PrunerRegistry.Methods.Select(m => $"{m.Name}: {m.Summary}"))}; see docs/methods.md";
        methodOptions.AddTo(Command);
        recipe.AddTo(Command);
        Command.Add(saveScores);
        Command.Add(s.SaveFormat);
        Command.Add(outDir);
        s.AddRun(Command);
        Command.SetAction(r => Output.Guard(r, s.Device, () => Run(r)));
    }

    public static Command Create() => new PruneCommand().Command;

    /// <summary>
    /// What the command line asks for, checked against the declarations before any data is touched: an option of
    /// another method, a training option for a method that does not train, or a missing --sparsity is a one-line error.
    /// </summary>
    public PruneOptions Read(ParseResult r)
    {
        var settings = prune.Build<PruneSettings>(r);
        var method = PrunerRegistry.Get(settings.Method);
        var given = methodOptions.Values(r, givenOnly: true);
        foreach (var key in given.Keys.Where(k => !method.Options.Any(p => p.Key == k)))
        {
            var p = PrunerRegistry.AllOptions.First(o => o.Key == key);
            throw new InitPruneException($"{p.Flag} does nothing for method '{method.Name}': it is an option of {string.Join(", ", PrunerRegistry.Declaring(p).Select(m => m.Name))}");
        }
        var values = recipe.Values(r);
        bool preTrains = (int)values["pre_epochs"]! > 0;
        bool ticket = Tickets.EdgePopupMethod.Is(method.Name);
        if ((!method.Trains || ticket) && !preTrains && recipe.Params.FirstOrDefault(p => p.Key != "pre_epochs" && recipe.Given(r, p.Key)) is { } unused)
            throw new InitPruneException($"{unused.Flag} does nothing for method '{method.Name}': it sets the training of methods that train (imp) and of --pre-epochs" +
                (ticket ? "; edge-popup's own are --popup-epochs, --anneal-epochs, --popup-lr, --popup-batch-size, --popup-momentum, --popup-weight-decay" : ""));
        if (!method.IgnoresSparsity && !prune.Given(r, "sparsity"))
            throw new InitPruneException($"method '{method.Name}' needs --sparsity, the fraction of weights to remove (e.g. --sparsity 0.9)");
        settings = settings with { Options = new MethodOptions(given.Select(kv => new KeyValuePair<string, object>(kv.Key, kv.Value!))).Complete(method) };
        var init = s.InitSpec(r);
        var trainSettings = (TrainSettings)Param.Build(typeof(TrainSettings), values);
        var train = trainSettings.ToConfig((string)values["augment"]!);
        return new PruneOptions(s.DatasetName(r), s.ModelSpec(r), init, settings.ToSpec(init), r.GetValue(s.Seed), settings.ScoreBatchSize,
            r.GetValue(s.DataDir), r.GetValue(s.InitFrom), r.GetValue(saveScores), method.Trains && !ticket ? train : null,
            PreTrain: trainSettings.PreTrainConfig((string)values["augment"]!), ScoreBatches: settings.ScoreBatches, SaveFormat: s.Format(r));
    }

    int Run(ParseResult r)
    {
        bool json = r.GetValue(s.Json);
        var options = Read(r);
        var dir = r.GetValue(outDir)!;
        var console = Output.Human(json);
        var summary = Tickets.EdgePopupMethod.Is(options.Prune.Method)
            ? Output.WithTicketProgress(console, Output.Interactive(json), Tickets.EdgePopupMethod.Config(options.Prune).Epochs, hook => PruneJob.Run(options, dir, ticketEpoch: hook))
            : Output.WithProgress(console, Output.Interactive(json), hook => PruneJob.Run(options, dir, hook));
        foreach (var w in summary.Warnings) Output.Warn(console, w);
        if (json)
        {
            Output.Json(summary);
            return 0;
        }
        console.WriteLine($"{summary.Method} ({summary.Scope}) on {summary.Dataset}: kept {summary.Kept:N0} of {summary.Total:N0} weights, sparsity {summary.ActualSparsity:0.0000}");
        Output.LayerTable(console, summary.Layers);
        if (summary.Flops is { } flops)
            foreach (var line in flops.Lines) console.WriteLine(line);
        console.WriteLine($"s_max = {summary.MaxSparsityWithoutCollapse:0.000000} (beyond it some layer must be empty); per-unit kept fractions are in summary.json");
        console.WriteLine($"wrote {string.Join(", ", summary.Files.Values)} to {Path.GetFullPath(dir)}");
        return 0;
    }
}
