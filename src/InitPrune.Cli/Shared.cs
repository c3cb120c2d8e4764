using System.CommandLine;
using System.Globalization;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Init;
using InitPrune.Models;

namespace InitPrune.Cli;

/// <summary>Options several commands share, and how to read them.</summary>
internal sealed class Shared
{
    public readonly Declared Dataset = new(Param.Of(typeof(DataSettings)).Where(p => p.Key == "name"));
    public readonly Option<string?> DataDir = new("--data-dir") { Description = "Folder holding the dataset files, the only one searched (default: $INITPRUNE_DATA alone when set, else ~/.initprune/data, /usr/share/datasets)" };
    public readonly Declared Model = new(Param.Of(typeof(ModelSettings)));
    public readonly Option<string?> Widths = new("--widths") { Description = "Explicit hidden widths, comma-separated (e.g. 300,100); overrides --depth/--width" };
    public readonly Declared Init = new(Param.Of(typeof(InitSettings)));
    public readonly Option<string?> InitFrom = new("--init-from") { Description = "Start from the weights in this .safetensors or PyTorch .pt/.pth file (PyTorch names: layers.0.weight, ...; a torch.nn.utils.prune state_dict gives weight_orig * weight_mask) instead of a fresh initialization" };
    public readonly Option<string> SaveFormat = new("--save-format") { Description = "Format of the tensor files written: safetensors (with format=pt metadata) or pt (a PyTorch zip checkpoint, torch.load reads it)", DefaultValueFactory = _ => "safetensors" };
    public readonly Option<long> Seed = new("--seed") { Description = "Seed for initialization, masks, batches and shuffling", DefaultValueFactory = _ => 0 };
    public readonly Option<string> Device = new("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
    public readonly Option<bool> Json = new("--json") { Description = "Print the result as JSON on stdout (progress goes to stderr)" };

    public Option<string> Out(string defaultDir) => new("--out") { Description = $"Folder for the artefacts (default {defaultDir})", DefaultValueFactory = _ => defaultDir };

    public Shared()
    {
        Init.Options.First().Description = $"Initialization: {string.Join("; ", Initializers.Descriptions.Select(d => $"{d.Key}: {d.Value}"))}";
    }

    public void AddData(Command c)
    {
        Dataset.AddTo(c);
        c.Add(DataDir);
    }

    public void AddModel(Command c)
    {
        Model.AddTo(c);
        c.Add(Widths);
        Init.AddTo(c);
        c.Add(InitFrom);
    }

    /// <summary>--seed and --device only where the command draws random numbers or computes with tensors; --json everywhere.</summary>
    public void AddRun(Command c, bool seed = true, bool device = true)
    {
        if (seed) c.Add(Seed);
        if (device) c.Add(Device);
        c.Add(Json);
    }

    public IO.SaveFormat Format(ParseResult r) => IO.CheckpointFormat.Parse(r.GetValue(SaveFormat)!);

    public string DatasetName(ParseResult r) => (string)Dataset.Values(r)["name"]!;

    public ModelSpec ModelSpec(ParseResult r)
    {
        var model = Model.Build<ModelSettings>(r);
        var widths = ParseList(r.GetValue(Widths), "--widths", long.Parse);
        if (ModelRegistry.Resolve(model.Name) is { } name) Model.RefuseIrrelevant(r, name, "--model");
        return model.ToSpec(widths);
    }

    public InitSpec InitSpec(ParseResult r)
    {
        var init = Init.Build<InitSettings>(r);
        Init.RefuseIrrelevant(r, init.Name, "--init");
        return init.ToSpec(Model.Build<ModelSettings>(r).Activation);
    }

    /// <summary>A value as typed on a command line: invariant numbers, lists as a,b.</summary>
    public static string Format(object? value) => value switch
    {
        double[] a => string.Join(",", a.Select(x => Format(x))),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? "",
    };

    /// <summary>Parses "a,b,c"; a malformed list is a one-line error naming the option.</summary>
    public static T[]? ParseList<T>(string? text, string option, Func<string, IFormatProvider, T> parse)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            return [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => parse(s, CultureInfo.InvariantCulture))];
        }
        catch (FormatException)
        {
            throw new InitPruneException($"{option} '{text}' is not a comma-separated list of numbers");
        }
        catch (OverflowException)
        {
            throw new InitPruneException($"{option} '{text}' holds a number out of range");
        }
    }
}
