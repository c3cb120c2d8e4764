using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Engine;

/// <summary>
/// Keeps CPU convolutions reproducible. libtorch runs CPU convolutions through oneDNN, whose AVX-512 kernels gave
/// different results run to run (and NaN) on an AVX-512 AMD EPYC; capped at AVX2 they were exact. Two layers:
/// <list type="number">
/// <item>Before libtorch's first convolution (this assembly's module initializer), on a CPU with AVX-512 the native
/// environment gets <c>DNNL_MAX_CPU_ISA=AVX2</c> (through libc's <c>setenv</c>: .NET's
/// <c>Environment.SetEnvironmentVariable</c> does not reach native code). A <c>DNNL_MAX_CPU_ISA</c> or
/// <c>ONEDNN_MAX_CPU_ISA</c> the user set is kept; <c>INITPRUNE_CPU_GUARD=off</c> turns the cap off.</item>
/// <item>Before the first convolutional network is built, <see cref="CheckConvolutions()"/> runs a small forward and
/// double-backward convolution twice and against float64. If the results differ or are wrong, oneDNN is switched
/// off for convolutions (libtorch's own kernels take over) with one warning line, and the check is repeated; if
/// that fails too, the run stops with a one-line error.</item>
/// </list>
/// </summary>
public static class CpuGuard
{
    /// <summary>The environment variable that turns the AVX2 cap off (<c>off</c>) or on (<c>auto</c>, the default).</summary>
    public const string Variable = "INITPRUNE_CPU_GUARD";

    static readonly Lock Gate = new();
    static bool checkedConvolutions;

    /// <summary>What the guard did to oneDNN's instruction set, e.g. "AVX2 (capped on an AVX-512 CPU)".</summary>
    public static string OneDnnIsa { get; private set; } = "default";

    /// <summary>Whether oneDNN convolutions were switched off because the self-check failed.</summary>
    public static bool OneDnnDisabled { get; private set; }

    /// <summary>The warning printed when the self-check switched oneDNN off (null when it did not).</summary>
    public static string? Warning { get; private set; }

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "the cap must reach the native environment before libtorch's first convolution, whoever calls the library first")]
    internal static void Initialize() => Apply();

    /// <summary>Applies the AVX2 cap (idempotent; the module initializer already calls it).</summary>
    public static void Apply()
    {
        string? user = Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") ?? Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA");
        var mode = (Environment.GetEnvironmentVariable(Variable) ?? "auto").Trim().ToLowerInvariant();
        if (user is not null) OneDnnIsa = $"{user} (set by the user)";
        else if (mode is "off" or "0" or "false" or "no") OneDnnIsa = $"default ({Variable}=off)";
        else if (!HasAvx512()) OneDnnIsa = "default (no AVX-512)";
        else if (SetNativeEnvironment("DNNL_MAX_CPU_ISA", "AVX2")) OneDnnIsa = "AVX2 (capped on an AVX-512 CPU)";
        else OneDnnIsa = "default (could not set the native environment)";
    }

    /// <summary>AVX-512 Foundation, read from CPUID leaf 7 (independent of .NET's own AVX-512 settings).</summary>
    public static bool HasAvx512()
    {
        if (!X86Base.IsSupported || X86Base.CpuId(0, 0).Eax < 7) return false;
        return (X86Base.CpuId(7, 0).Ebx & (1 << 16)) != 0;
    }

    /// <summary>
    /// Runs the convolution self-check once per process (CPU only; later calls return at once). Throws a one-line
    /// <see cref="InitPruneException"/> when convolutions stay wrong even with oneDNN switched off.
    /// </summary>
    public static void CheckConvolutions() => CheckConvolutions(RunConvolutionCheck);

    /// <summary>The self-check with a replaceable check (tests inject a faulty one); returns the check's verdicts.</summary>
    internal static void CheckConvolutions(Func<string?> check)
    {
        if (Compute.Device.type != DeviceType.CPU) return;
        lock (Gate)
        {
            if (checkedConvolutions) return;
            var fault = check();
            if (fault is not null)
            {
                if (!SetOneDnnEnabled(false))
                    throw new InitPruneException($"convolutions on this CPU are not reproducible ({fault}) and oneDNN could not be switched off; start InitPrune with DNNL_MAX_CPU_ISA=AVX2 in the environment (see README, Troubleshooting)");
                OneDnnDisabled = true;
                Warning = $"convolutions with oneDNN ({OneDnnIsa}) are not reproducible on this CPU ({fault}); using libtorch's own convolution kernels instead (slower). Set DNNL_MAX_CPU_ISA=AVX2 before starting to keep oneDNN";
                Console.Error.WriteLine($"warning: {Warning}");
                var again = check();
                if (again is not null)
                    throw new InitPruneException($"convolutions on this CPU are not reproducible even without oneDNN ({again}); run on another machine or with --device cuda (see README, Troubleshooting)");
            }
            checkedConvolutions = true;
        }
    }

    /// <summary>Forgets the self-check's verdict and turns oneDNN back on (tests only).</summary>
    internal static void Reset()
    {
        lock (Gate)
        {
            if (OneDnnDisabled) SetOneDnnEnabled(true);
            OneDnnDisabled = false;
            Warning = null;
            checkedConvolutions = false;
        }
    }

    /// <summary>
    /// Forward and double-backward convolutions (the shapes GraSP's Hessian-gradient product uses), each computed
    /// twice: null when both runs are bit-identical, finite and within 1e-4 of float64; otherwise what went wrong.
    /// </summary>
    internal static string? RunConvolutionCheck()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var g = new Generator(20_251_202);
        var x = randn([8, 32, 16, 16], generator: g);
        var w = randn([16, 32, 3, 3], generator: g) / 17;
        var big = randn([8, 32, 16, 16], generator: g) / 64;
        Tensor[] Run(Tensor xi, Tensor wi, Tensor bi) =>
        [
            nn.functional.conv2d(xi, wi, padding: [1, 1]),
            // The weight-gradient convolution: input [N, C, H, W] against a kernel as large as the image.
            nn.functional.conv2d(xi.transpose(0, 1), bi.transpose(0, 1), padding: [1, 1]),
        ];
        var first = Run(x, w, big);
        var second = Run(x, w, big);
        var reference = Run(x.to(float64), w.to(float64), big.to(float64));
        for (int i = 0; i < first.Length; i++)
        {
            if (!first[i].isfinite().all().item<bool>()) return $"non-finite result in check {i + 1}";
            if (!first[i].eq(second[i]).all().item<bool>()) return $"two identical convolutions differ in check {i + 1}";
            double err = ((first[i].to(float64) - reference[i]).norm() / reference[i].norm()).item<double>();
            if (!(err < 1e-4)) return $"relative error {err:g3} against float64 in check {i + 1}";
        }
        return null;
    }

    static bool SetNativeEnvironment(string name, string value)
    {
        try
        {
            if (OperatingSystem.IsWindows())
            {
                Environment.SetEnvironmentVariable(name, value); // oneDNN reads GetEnvironmentVariable on Windows
                return true;
            }
            return setenv(name, value, 1) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>at::globalContext().setUserEnabledMkldnn(on): libtorch's switch for oneDNN convolutions (Linux, macOS).</summary>
    internal static bool SetOneDnnEnabled(bool on)
    {
        if (OperatingSystem.IsWindows()) return false;
        try
        {
            _ = torch.get_num_threads(); // make sure TorchSharp has loaded libtorch
            var lib = NativeLibrary.Load(OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so", typeof(torch).Assembly, null);
            if (!NativeLibrary.TryGetExport(lib, "_ZN2at13globalContextEv", out var context) ||
                !NativeLibrary.TryGetExport(lib, "_ZN2at7Context20setUserEnabledMkldnnEb", out var set))
                return false;
            unsafe
            {
                var ctx = ((delegate* unmanaged<nint>)context)();
                ((delegate* unmanaged<nint, byte, void>)set)(ctx, on ? (byte)1 : (byte)0);
            }
            return true;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", SetLastError = true)]
    static extern int setenv(string name, string value, int overwrite);
}
