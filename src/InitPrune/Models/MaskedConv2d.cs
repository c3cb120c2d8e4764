using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>
/// PyTorch's nn.Conv2d (square kernel, weight [out, in, k, k]) carrying an optional mask. Padding is zeros or
/// circular (<c>padding_mode="circular"</c>: the input wraps around, as in seed 001's delta-orthogonal setting).
/// </summary>
public sealed class MaskedConv2d : MaskedLayer
{
    public MaskedConv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
        string paddingMode = "zeros", bool hasBias = true)
        : base("MaskedConv2d", empty(Positive(outChannels, "output channels"), Positive(inChannels, "input channels"),
            Positive(kernelSize, "kernel size"), kernelSize), hasBias ? zeros(outChannels) : null)
    {
        if (stride < 1 || padding < 0)
            throw new Engine.InitPruneException($"impossible convolution: stride {stride}, padding {padding}; stride must be ≥ 1 and padding ≥ 0");
        PaddingMode = CheckPadding(paddingMode);
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
    }

    /// <summary>The canonical padding mode of <paramref name="mode"/>, or a one-line error.</summary>
    public static string CheckPadding(string mode) =>
        Paddings.Resolve(mode) ?? throw new Engine.InitPruneException($"unknown padding '{mode}': use {string.Join(" or ", Paddings.Names)}");

    public long InChannels { get; }
    public long OutChannels { get; }
    public long KernelSize { get; }
    public long Stride { get; }
    public long Padding { get; }
    public string PaddingMode { get; }

    public override Tensor forward(Tensor input)
    {
        var (w, b) = ForwardParameters();
        if (PaddingMode == "zeros" || Padding == 0)
            return Observed(input, nn.functional.conv2d(input, w, b, strides: [Stride, Stride], padding: [Padding, Padding]));
        using var wrapped = nn.functional.pad(input, [Padding, Padding, Padding, Padding], PaddingModes.Circular);
        return Observed(input, nn.functional.conv2d(wrapped, w, b, strides: [Stride, Stride]));
    }

    static long Positive(long value, string what) =>
        value >= 1 ? value : throw new Engine.InitPruneException($"impossible convolution: {what} {value}; it must be ≥ 1");
}

/// <summary>Padding modes of the 3×3 convolutions, by the names users type.</summary>
public static class Paddings
{
    public static IReadOnlyList<string> Names { get; } = ["zeros", "circular"];

    /// <summary>The canonical mode (zero = zeros), or null when unknown.</summary>
    public static string? Resolve(string mode) => mode.Trim().ToLowerInvariant() switch
    {
        "zeros" or "zero" => "zeros",
        "circular" => "circular",
        _ => null,
    };
}
