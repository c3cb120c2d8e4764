using System.Reflection;
using System.Runtime.InteropServices;
using InitPrune.Experiments.Sweeps;
using TorchSharp;

namespace InitPrune.Engine;

/// <summary>Where results are computed: versions, commit, threads and device (stored with every run).</summary>
public static class EnvironmentProbe
{
    public static EnvironmentInfo Current()
    {
        var info = typeof(EnvironmentProbe).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        var plus = info.IndexOf('+');
        return new EnvironmentInfo(
            plus < 0 ? info : info[..plus],
            plus < 0 ? "unknown" : info[(plus + 1)..],
            typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown",
            Compute.LibTorchVersion,
            torch.get_num_threads(),
            Compute.Device.ToString(),
            Environment.MachineName,
            RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription,
            CpuGuard.OneDnnDisabled ? "off (convolution self-check failed)" : CpuGuard.OneDnnIsa);
    }
}
