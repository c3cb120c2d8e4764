using TorchSharp;

namespace InitPrune.Engine;

/// <summary>Where tensors live. Every tensor the library creates is placed on <see cref="Device"/>.</summary>
public static class Compute
{
    static torch.Device? device;

    public static torch.Device Device => device ??= torch.CPU;

    /// <summary>Selects the device by name (<c>cpu</c> or <c>cuda</c>, optionally <c>cuda:1</c>).</summary>
    public static void Use(string name)
    {
        var n = name.Trim().ToLowerInvariant();
        if (n != "cpu" && !n.StartsWith("cuda", StringComparison.Ordinal))
            throw new InitPruneException($"unknown device '{name}': use cpu or cuda");
        if (n.StartsWith("cuda", StringComparison.Ordinal) && !torch.cuda.is_available())
            throw new InitPruneException("--device cuda was asked for but CUDA is not available: build with -p:TorchSharpPackage=TorchSharp-cuda-linux on a machine with an NVIDIA driver, or use --device cpu");
        device = torch.device(n);
    }

    /// <summary>libtorch version string (for run metadata).</summary>
    public static string LibTorchVersion => torch.__version__;
}
