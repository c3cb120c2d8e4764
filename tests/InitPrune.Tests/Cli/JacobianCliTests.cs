using System.Globalization;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Cli;

public sealed class JacobianCliTests : IDisposable
{
    readonly TempDir root = new();

    public void Dispose() => root.Dispose();

    [Fact]
    public void JacobianWritesTheSummaryAndPerInputNormsAndPrintsTheTheorySlope()
    {
        var dir = root.Sub("j");
        var r = CliRunner.Run("jacobian", "--dataset", "ellipse", "--model", "mlp", "--depth", "6", "--width", "32", "--sigma-w", "2",
            "--inputs", "3", "--seed", "1", "--out", dir, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var j = r.Json;
        Assert.Equal("hidden", j.GetProperty("span").GetString());
        Assert.Equal(5, j.GetProperty("span_depth").GetInt32());
        Assert.Equal(3, j.GetProperty("per_input").GetArrayLength());
        Assert.Equal(0, j.GetProperty("not_converged").GetInt32());
        double mean = j.GetProperty("per_input").EnumerateArray().Average(e => e.GetProperty("norm").GetDouble());
        Assert.Equal(mean, j.GetProperty("mean").GetDouble(), 12);
        Assert.Equal(0.5 * Math.Log(2), j.GetProperty("theory").GetProperty("log_slope_per_layer").GetDouble(), 12);
        var csv = File.ReadAllLines(Path.Combine(dir, "norms.csv"));
        Assert.Equal(4, csv.Length);
        Assert.Equal(j.GetProperty("per_input")[0].GetProperty("norm").GetDouble(), double.Parse(csv[1].Split(',')[1], CultureInfo.InvariantCulture));
        Assert.True(File.Exists(Path.Combine(dir, "summary.json")));

        var human = CliRunner.Run("jacobian", "--dataset", "ellipse", "--model", "mlp", "--depth", "6", "--width", "32", "--sigma-w", "2",
            "--inputs", "3", "--seed", "1", "--out", root.Sub("h"));
        Assert.True(human.ExitCode == 0, human.Stderr);
        Assert.Contains("‖J‖ = ", human.Stdout);
        Assert.Contains("theory (seed 002 Theorem 1", human.Stdout);
    }

    [Fact]
    public void APrunedNetworkAndTheFullSpanRun()
    {
        var r = CliRunner.Run("jacobian", "--dataset", "ellipse", "--model", "mlp", "--depth", "4", "--width", "32", "--method", "random",
            "--sparsity", "0.5", "--rescale", "random", "--span", "full", "--inputs", "2", "--out", root.Sub("p"), "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("random", r.Json.GetProperty("method").GetString());
        Assert.Equal("full", r.Json.GetProperty("span").GetString());
        Assert.True(r.Json.GetProperty("mean").GetDouble() > 0);
    }

    [Theory]
    [InlineData("has no hidden span", "--model", "mlp", "--depth", "1")]
    [InlineData("--span 'middle' is unknown", "--span", "middle")]
    [InlineData("needs --sparsity", "--method", "magnitude")]
    [InlineData("--sparsity needs --method", "--sparsity", "0.5")]
    [InlineData("--rescale needs --method", "--rescale", "random")]
    [InlineData("trains: prune with", "--method", "imp", "--sparsity", "0.5")]
    [InlineData("--inputs 0 is impossible", "--inputs", "0")]
    [InlineData("tolerance 0 is impossible", "--tolerance", "0")]
    public void BadInputIsOneLine(string expected, params string[] args)
    {
        var r = CliRunner.Run(["jacobian", "--dataset", "ellipse", "--width", "8", "--out", root.Sub("e"), .. args]);
        Assert.Contains(expected, CliRunner.AssertOneLineError(r));
    }
}
