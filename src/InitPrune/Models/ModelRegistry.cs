using System.Text.RegularExpressions;
using InitPrune.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>
/// What to build. <see cref="Widths"/> overrides <see cref="Depth"/> × <see cref="Width"/> when given (mlp, vcnn).
/// <see cref="Padding"/> (zeros | circular) applies to every 3×3 convolution, <see cref="WidthMultiplier"/> to
/// every hidden layer's width or channel count, <see cref="Stable"/> and <see cref="Shortcut"/> to ResNets.
/// </summary>
public sealed record ModelSpec(
    string Name = "mlp",
    int Depth = 2,
    int Width = 100,
    long[]? Widths = null,
    string Activation = "relu",
    bool Bias = true,
    string Padding = "zeros",
    double WidthMultiplier = 1.0,
    bool Stable = false,
    ShortcutKind Shortcut = ShortcutKind.B)
{
    /// <summary>Hidden widths after resolving presets (lenet300 = [300, 100]) and depth × width.</summary>
    public long[] HiddenWidths => Widths ?? (ModelRegistry.Resolve(Name) switch
    {
        "lenet300" => [300, 100],
        _ => Enumerable.Repeat((long)Width, Depth).ToArray(),
    });
}

/// <summary>Models by the names users type.</summary>
public static partial class ModelRegistry
{
    public static readonly IReadOnlyList<string> Names =
    [
        "mlp", "lenet300", "vcnn", "conv2", "conv4", "conv6", "conv8",
        "vgg11", "vgg13", "vgg16", "vgg19", "vgg11-bn", "vgg13-bn", "vgg16-bn", "vgg19-bn", "3xvgg16", "3xvgg16-bn",
        "resnet20", "resnet32", "resnet44", "resnet50", "resnet56", "resnet104", "resnet110",
    ];

    /// <summary>
    /// The canonical name of a model name users may type (case-insensitive; lenet-300-100 = lenet300; VGG depths 11,
    /// 13, 16, 19 and seed 002's 5, 15, 25, 35, optionally 3x and -bn; CIFAR ResNets of depth 6n+2), or null when it names no model.
    /// </summary>
    public static string? Resolve(string name)
    {
        name = name.Trim().ToLowerInvariant();
        if (name == "lenet-300-100") return "lenet300";
        if (name is "conv-2" or "conv-4" or "conv-6" or "conv-8") return name.Replace("-", "", StringComparison.Ordinal);
        if (Names.Contains(name)) return name;
        if (VggName().Match(name) is { Success: true } vgg && vgg.Groups["depth"].Value is "11" or "13" or "16" or "19" or "5" or "15" or "25" or "35") return name;
        if (ResNetName().Match(name) is { Success: true } m && int.TryParse(m.Groups["depth"].Value, out int depth) && depth >= 8 && (depth - 2) % 6 == 0) return name;
        return null;
    }

    /// <summary>True for a model with BatchNorm layers (the -bn VGGs and the ResNets), by its canonical name.</summary>
    public static bool HasBatchNorm(string name) =>
        (VggName().Match(name) is { Success: true } vgg && vgg.Groups["bn"].Success) || ResNetName().IsMatch(name);

    /// <summary>Builds a model for flat inputs of <paramref name="inputSize"/> features (fully-connected models).</summary>
    public static nn.Module<Tensor, Tensor> Create(ModelSpec spec, long inputSize, long outputs) =>
        Create(spec, [inputSize], outputs);

    /// <summary>Builds any model for samples of <paramref name="sampleShape"/> ([C, H, W] for images).</summary>
    public static nn.Module<Tensor, Tensor> Create(ModelSpec spec, long[] sampleShape, long outputs)
    {
        var name = Resolve(spec.Name) ?? throw new InitPruneException(ResNetName().IsMatch(spec.Name.Trim().ToLowerInvariant())
            ? $"unknown model '{spec.Name}': CIFAR ResNets have depth 6n+2 with n ≥ 1 (resnet20, 32, 44, 50, 56, 104, 110)"
            : $"unknown model '{spec.Name}': use one of {string.Join(", ", Names)} or resnetN (N = 6n+2)");
        if (!double.IsFinite(spec.WidthMultiplier) || spec.WidthMultiplier <= 0)
            throw new InitPruneException($"impossible width multiplier {spec.WidthMultiplier}: it must be > 0");
        if (outputs < 1 || sampleShape.Length == 0 || sampleShape.Any(d => d < 1))
            throw new InitPruneException($"impossible model shape: samples [{string.Join(",", sampleShape)}], outputs {outputs}; every size must be positive");
        MaskedConv2d.CheckPadding(spec.Padding);
        var resnet = ResNetName().Match(name);
        if (spec.Stable && !resnet.Success)
            throw new InitPruneException($"--stable applies to ResNets only, not to '{spec.Name}'");
        Memory.RequireForModel(spec.Name, ParameterCount(spec, sampleShape, outputs));
        nn.Module<Tensor, Tensor> model = name switch
        {
            "mlp" or "lenet300" => BuildMlp(spec, name, sampleShape, outputs),
            "vcnn" => BuildVanillaCnn(spec, name, sampleShape, outputs),
            "conv2" or "conv4" or "conv6" or "conv8" => new ConvN(ConvBlocks(name), [Channels(spec, sampleShape), .. sampleShape[1..]], outputs,
                w => Scaled(spec, [w], name)[0], spec.Activation, spec.Padding, spec.Bias),
            _ when VggName().Match(name) is { Success: true } vgg => BuildVgg(spec, vgg, name, sampleShape, outputs),
            _ when resnet.Success => BuildResNet(spec, resnet, name, sampleShape, outputs),
            _ => throw new InitPruneException($"unknown model '{spec.Name}': use one of {string.Join(", ", Names)}"),
        };
        if (model is not Mlp)
        {
            try
            {
                CpuGuard.CheckConvolutions();
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        return model.to(Compute.Device);
    }

    static Mlp BuildMlp(ModelSpec spec, string name, long[] sampleShape, long outputs)
    {
        if (spec.Widths is null && name == "mlp" && (spec.Depth < 0 || spec.Width <= 0))
            throw new InitPruneException($"impossible MLP: depth {spec.Depth}, width {spec.Width}; depth must be ≥ 0 and width ≥ 1");
        long inputSize = sampleShape.Aggregate(1L, (a, b) => a * b);
        return new Mlp(inputSize, Scaled(spec, spec.HiddenWidths, name), outputs, spec.Activation, spec.Bias);
    }

    static VanillaCnn BuildVanillaCnn(ModelSpec spec, string name, long[] sampleShape, long outputs)
    {
        if (spec.Widths is null && (spec.Depth < 1 || spec.Width < 1))
            throw new InitPruneException($"impossible vanilla CNN: depth {spec.Depth}, width {spec.Width}; use --depth ≥ 1 and --width ≥ 1");
        return new VanillaCnn(Channels(spec, sampleShape), Scaled(spec, spec.HiddenWidths, name), outputs, spec.Activation, spec.Padding, spec.Bias);
    }

    static Vgg BuildVgg(ModelSpec spec, Match m, string name, long[] sampleShape, long outputs)
    {
        var plan = Vgg.Plan(int.Parse(m.Groups["depth"].Value, System.Globalization.CultureInfo.InvariantCulture));
        // Seed 001 Table 5: 3xVGG16 has three times the conv layers of every block, with the same pooling.
        int repeat = m.Groups["triple"].Success ? 3 : 1;
        var blocks = plan.Select(b => Scaled(spec, [.. Enumerable.Repeat(b, repeat).SelectMany(x => x)], name)).ToArray();
        return new Vgg(Channels(spec, sampleShape), blocks, outputs, m.Groups["bn"].Success, spec.Activation, spec.Padding, spec.Bias);
    }

    static ResNet BuildResNet(ModelSpec spec, Match m, string name, long[] sampleShape, long outputs)
    {
        int depth = int.Parse(m.Groups["depth"].Value, System.Globalization.CultureInfo.InvariantCulture);
        if (depth < 8 || (depth - 2) % 6 != 0)
            throw new InitPruneException($"unknown model '{spec.Name}': CIFAR ResNets have depth 6n+2 with n ≥ 1 (resnet20, 32, 44, 50, 56, 104, 110)");
        long baseWidth = Scaled(spec, [16], name)[0];
        return new ResNet(Channels(spec, sampleShape), (depth - 2) / 6, outputs, baseWidth, spec.Stable, spec.Shortcut,
            spec.Activation, spec.Padding, spec.Bias);
    }

    /// <summary>The number of two-convolution blocks of conv2, conv4, conv6, conv8.</summary>
    internal static int ConvBlocks(string name) => (name[^1] - '0') / 2;

    /// <summary>Input channels of an image model; flat samples are a one-line error.</summary>
    static long Channels(ModelSpec spec, long[] sampleShape) =>
        sampleShape.Length == 3
            ? sampleShape[0]
            : throw new InitPruneException($"model '{spec.Name}' needs image samples [channels, height, width] but the data has samples [{string.Join(",", sampleShape)}]: use an image dataset or --model mlp");

    static long[] Scaled(ModelSpec spec, long[] widths, string name)
    {
        var scaled = widths.Select(w => (long)Math.Round(w * spec.WidthMultiplier, MidpointRounding.AwayFromZero)).ToArray();
        if (scaled.Any(w => w < 1))
            throw new InitPruneException($"model '{name}': widths [{string.Join(",", widths)}] × multiplier {spec.WidthMultiplier} leave a layer with no unit; use a larger width or multiplier");
        return scaled;
    }

    [GeneratedRegex(@"^(?<triple>3x)?vgg(?<depth>\d+)(?<bn>-bn)?$")]
    private static partial Regex VggName();

    [GeneratedRegex(@"^resnet(?<depth>\d+)$")]
    private static partial Regex ResNetName();
}
