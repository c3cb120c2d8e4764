using System.Diagnostics;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Pruning;

/// <summary>
/// A mask computed here from exported weights and batch equals the mask PyTorch computes from the same files by
/// the same definition (tests/pytorch/crosscheck.py, Debian's python3-torch). SNIP may differ only at entries
/// whose score ties the threshold to 1e-5, where the two libtorch versions round gradients differently.
/// </summary>
public class PyTorchCrossCheckTests
{
    const string Python = "/usr/bin/python3";

    [Theory]
    [InlineData("magnitude", "relu", "0.9")]
    [InlineData("snip", "relu", "0.9")]
    [InlineData("snip", "tanh", "0.98")]
    public async Task MaskMatchesPyTorch(string method, string activation, string sparsity)
    {
        using var temp = new TempDir();
        var dir = temp.Path;
        var prune = CliRunner.Run("prune", "--model", "lenet300", "--activation", activation, "--method", method, "--sparsity", sparsity, "--seed", "3", "--out", dir);
        Assert.True(prune.ExitCode == 0, prune.Stderr);

        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pytorch", "crosscheck.py"));
        psi.ArgumentList.Add(dir);
        psi.ArgumentList.Add(activation);
        using var p = Process.Start(psi)!;
        var stdoutTask = p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        var stdout = await stdoutTask;
        await p.WaitForExitAsync();
        Assert.False(stderr.Contains("No module named 'torch'"), "PyTorch is missing: sudo apt-get install python3-torch (.ci/run installs it)");
        Assert.True(p.ExitCode == 0, $"crosscheck failed: {stdout} {stderr}");
        Assert.Contains($"\"method\": \"{method}\"", stdout);
    }
}
