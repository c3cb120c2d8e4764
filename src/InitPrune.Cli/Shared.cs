using System.CommandLine;
using System.Globalization;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;

namespace InitPrune.Cli;

/// <summary>Options several commands share, and how to read them.</summary>
internal sealed class Shared
{
    public readonly Option<string> Dataset = new("--dataset") { Description = "Dataset: fashion-mnist, mnist, cifar10, cifar100, tiny-imagenet, ellipse, shifted-relu", DefaultValueFactory = _ => "fashion-mnist" };
    public readonly Option<string?> DataDir = new("--data-dir") { Description = "Folder holding the dataset files, the only one searched (default: $INITPRUNE_DATA alone when set, else ~/.initprune/data, /usr/share/datasets)" };
    public readonly Option<string> Model = new("--model") { Description = "Model: mlp (depth × width), lenet300 (784-300-100-10), vcnn (--depth 3×3 convs of --width channels, global pooling), vgg11|vgg13|vgg16|vgg19 and 3xvgg16 (each optionally -bn), resnet20|32|44|50|56|104|110 (CIFAR, depth 6n+2)", DefaultValueFactory = _ => "lenet300" };
    public readonly Option<int> Depth = new("--depth") { Description = "Hidden layers of an mlp", DefaultValueFactory = _ => 2 };
    public readonly Option<int> Width = new("--width") { Description = "Width of every hidden layer of an mlp", DefaultValueFactory = _ => 100 };
    public readonly Option<string?> Widths = new("--widths") { Description = "Explicit hidden widths, comma-separated (e.g. 300,100); overrides --depth/--width" };
    public readonly Option<string> Activation = new("--activation") { Description = "Activation: relu, tanh, elu, leaky_relu, selu, gelu, softplus, sigmoid, linear", DefaultValueFactory = _ => "relu" };
    public readonly Option<bool> NoBias = new("--no-bias") { Description = "Build layers without biases" };
    public readonly Option<string> Padding = new("--padding") { Description = "Padding of the 3×3 convolutions: zeros or circular", DefaultValueFactory = _ => "zeros" };
    public readonly Option<double> WidthMultiplier = new("--width-multiplier") { Description = "Multiplies every hidden width / channel count (the seeds use 2 for ResNets)", DefaultValueFactory = _ => 1.0 };
    public readonly Option<bool> Stable = new("--stable") { Description = "Stable ResNet: scale every residual branch by 1/sqrt(number of blocks) (seed 001 Eq. 9)" };
    public readonly Option<string> Init = new("--init") { Description = $"Initialization: {string.Join("; ", Initializers.Descriptions.Select(d => $"{d.Key}: {d.Value}"))}", DefaultValueFactory = _ => "normal" };
    public readonly Option<bool> ZeroBias = new("--zero-bias") { Description = "Set every bias to 0 after initializing (any --init)" };
    public readonly Option<double> Eta = new("--eta") { Description = "eta of --init correlated: W = W_ind + eta·w with one shared w per layer (seed 002 App. F)", DefaultValueFactory = _ => 0.0 };
    public readonly Option<double> SigmaW = new("--sigma-w") { Description = "sigma_w of normal, orthogonal (gain), correlated, slt-normal, slt-uniform (√2 is ReLU's Edge of Chaos); eoc computes it, the other --init names fix it", DefaultValueFactory = _ => Math.Sqrt(2) };
    public readonly Option<double> SigmaB = new("--sigma-b") { Description = "sigma_b: biases ~ N(0, sigma_b²) (also picks the Edge of Chaos for eoc); slt-* and looks-linear scale biases by the product of weight scales", DefaultValueFactory = _ => 0.0 };
    public readonly Option<string?> InitFrom = new("--init-from") { Description = "Start from the weights in this .safetensors file (PyTorch names: layers.0.weight, ...) instead of a fresh initialization" };
    public readonly Option<long> Seed = new("--seed") { Description = "Seed for initialization, masks, batches and shuffling", DefaultValueFactory = _ => 0 };
    public readonly Option<string> Device = new("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
    public readonly Option<bool> Json = new("--json") { Description = "Print the result as JSON on stdout (progress goes to stderr)" };

    public Option<string> Out(string defaultDir) => new("--out") { Description = $"Folder for the artefacts (default {defaultDir})", DefaultValueFactory = _ => defaultDir };

    public void AddData(Command c) { c.Add(Dataset); c.Add(DataDir); }

    public void AddModel(Command c)
    {
        foreach (var o in new Option[] { Model, Depth, Width, Widths, Activation, NoBias, Padding, WidthMultiplier, Stable, Init, SigmaW, SigmaB, ZeroBias, Eta, InitFrom }) c.Add(o);
    }

    /// <summary>--seed and --device only where the command draws random numbers or computes with tensors; --json everywhere.</summary>
    public void AddRun(Command c, bool seed = true, bool device = true)
    {
        if (seed) c.Add(Seed);
        if (device) c.Add(Device);
        c.Add(Json);
    }

    public ModelSpec ModelSpec(ParseResult r) =>
        new(r.GetValue(Model)!, r.GetValue(Depth), r.GetValue(Width), ParseList(r.GetValue(Widths), "--widths", long.Parse), r.GetValue(Activation)!, !r.GetValue(NoBias),
            r.GetValue(Padding)!, r.GetValue(WidthMultiplier), r.GetValue(Stable));

    public InitSpec InitSpec(ParseResult r) => new(r.GetValue(Init)!, r.GetValue(SigmaW), r.GetValue(SigmaB), r.GetValue(ZeroBias), r.GetValue(Eta), r.GetValue(Activation));

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
