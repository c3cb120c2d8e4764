using System.Diagnostics;

namespace InitPrune.Tests;

/// <summary>Runs the PyTorch side of a cross-check (<c>tests/pytorch/*.py</c>) in Debian's PyTorch.</summary>
internal static class PyTorchScript
{
    /// <summary>Debian's interpreter, which has python3-torch (a python3 earlier on PATH may not).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>Runs <paramref name="script"/> with <paramref name="args"/>; fails the test when torch is missing or the script exits non-zero; returns its stdout.</summary>
    public static async Task<string> RunAsync(string script, params string[] args)
    {
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pytorch", script));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdoutTask = p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        var stdout = await stdoutTask;
        await p.WaitForExitAsync();
        Assert.False(stderr.Contains("No module named 'torch'"), "PyTorch is missing: sudo apt-get install python3-torch (./test installs it)");
        Assert.True(p.ExitCode == 0, $"{script} {string.Join(' ', args)} failed: {stdout} {stderr}");
        return stdout;
    }

    /// <summary>As <see cref="RunAsync"/>, for synchronous tests.</summary>
    public static string Run(string script, params string[] args) => RunAsync(script, args).GetAwaiter().GetResult();
}
