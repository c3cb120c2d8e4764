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

        var stdout = await PyTorchScript.RunAsync("crosscheck.py", dir, activation);
        Assert.Contains($"\"method\": \"{method}\"", stdout);
    }
}
