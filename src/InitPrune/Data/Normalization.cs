using InitPrune.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Data;

/// <summary>Per-channel pixel statistics: a pixel byte v becomes (v / 255 − Mean[c]) / Std[c].</summary>
public sealed record Normalization(IReadOnlyList<float> Mean, IReadOnlyList<float> Std)
{
    public static Normalization Mnist { get; } = new([0.1307f], [0.3081f]);
    public static Normalization FashionMnist { get; } = new([0.2860f], [0.3530f]);
    public static Normalization Cifar10 { get; } = new([0.4914f, 0.4822f, 0.4465f], [0.2470f, 0.2435f, 0.2616f]);
    public static Normalization Cifar100 { get; } = new([0.5071f, 0.4865f, 0.4409f], [0.2673f, 0.2564f, 0.2762f]);

    /// <summary>The statistics the GraSP and SynFlow code uses for Tiny ImageNet.</summary>
    public static Normalization TinyImageNet { get; } = new([0.4802f, 0.4481f, 0.3975f], [0.2302f, 0.2265f, 0.2262f]);

    /// <summary>Turns <paramref name="pixels"/> (bytes, laid out as <paramref name="shape"/> = [N, C, H, W]) into a normalized float32 tensor on <see cref="Compute.Device"/>.</summary>
    public Tensor Apply(byte[] pixels, long[] shape)
    {
        if (shape.Length != 4 || shape[1] != Mean.Count)
            throw new ArgumentException($"expected shape [N, {Mean.Count}, H, W], got [{string.Join(", ", shape)}]", nameof(shape));
        using var raw = torch.tensor(pixels, shape, device: Compute.Device);
        var x = raw.to(ScalarType.Float32);
        x.div_(255f);
        if (Mean.Count == 1)
            return x.sub_(Mean[0]).div_(Std[0]);
        using var mean = torch.tensor(Mean.ToArray(), [1, Mean.Count, 1, 1], device: Compute.Device);
        using var std = torch.tensor(Std.ToArray(), [1, Std.Count, 1, 1], device: Compute.Device);
        return x.sub_(mean).div_(std);
    }
}
