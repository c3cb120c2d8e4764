using InitPrune.IO;
using InitPrune.Tests.Cli;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.StrongTickets;

public sealed class StrongTicketsCliTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), $"initprune-slt-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void WidthPrintsTheHandComputedWidthAsJson()
    {
        var r = CliRunner.Run("theory", "slt-width", "--architecture", "1,1", "--epsilon", "0.1", "--delta", "0.05", "--c", "2", "--variant", "main", "--json", "--out", dir);
        Assert.Equal(0, r.ExitCode);
        var layer = r.Json.GetProperty("results")[0].GetProperty("layers")[0];
        Assert.Equal(9, layer.GetProperty("wide_width").GetInt64());
        Assert.Equal("MainText", r.Json.GetProperty("results")[0].GetProperty("variant").GetString());
        Assert.True(File.Exists(Path.Combine(dir, "slt-width.json")));
    }

    [Fact]
    public void NormAndSubsetSumWriteTheirArtefacts()
    {
        var norm = CliRunner.Run("theory", "slt-norm", "--input", "1", "--widths", "4,4", "--draws", "50", "--json", "--out", Path.Combine(dir, "n"));
        Assert.Equal(0, norm.ExitCode);
        Assert.Equal(2, norm.Json.GetArrayLength());
        Assert.Equal(1 + 0.5 * 4 / 2 + 0.5 * 0.5 * 4 / 2, norm.Json[1].GetProperty("estimate").GetProperty("formula").GetDouble(), 12);
        var sums = CliRunner.Run("theory", "subset-sum", "--sizes", "4,6,8", "--trials", "5", "--out", Path.Combine(dir, "s"));
        Assert.Equal(0, sums.ExitCode);
        Assert.Contains("Poisson slope", sums.Stdout);
        Assert.True(File.Exists(Path.Combine(dir, "s", "subset-sum.png")));
        Assert.True(File.Exists(Path.Combine(dir, "s", "subset-sum.json")));
    }

    [Fact]
    public void WidthChecksLemma4OnATargetFile()
    {
        // The wide-layer counterexample of TicketBoundTests, saved with PyTorch names: the check must report a violation.
        const int n = 200;
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "target.safetensors");
        Safetensors.Save(file, new Dictionary<string, Tensor>
        {
            ["layers.0.weight"] = full(n, 1, 1e-3, float64),
            ["layers.0.bias"] = full(n, 1e-3, float64),
            ["layers.2.weight"] = ones(1, n, float64),
        });
        var r = CliRunner.Run("theory", "slt-width", "--target", file, "--epsilon", "0.1", "--json", "--out", dir);
        Assert.Equal(0, r.ExitCode);
        var checks = r.Json.GetProperty("lemma4_checks");
        Assert.Equal(2, checks.GetArrayLength());
        Assert.All(checks.EnumerateArray(), c => Assert.False(c.GetProperty("holds").GetBoolean()));
        Assert.Equal(2, r.Json.GetProperty("target").GetProperty("layers")[0].GetProperty("max_in_degree").GetInt32());
    }

    [Theory]
    [InlineData("slt-width", "--epsilon", "2")]
    [InlineData("slt-norm", "--distribution", "cauchy")]
    [InlineData("slt-norm", "--sigma-w", "-1,1,1")]
    [InlineData("subset-sum", "--targets", "0")]
    public void BadOptionsAreOneLineErrors(string command, string option, string value) =>
        CliRunner.AssertOneLineError(CliRunner.Run("theory", command, option, value, "--out", dir));
}
