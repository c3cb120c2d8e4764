using InitPrune.Tests.Cli;

namespace InitPrune.Tests.Theory.Probabilistic;

public class ProbabilisticCliTests
{
    static string Out() => Path.Combine(Path.GetTempPath(), $"initprune-prob-{Guid.NewGuid():N}");

    [Fact]
    public void QkBoundsJsonCarriesAllThreeTheorems()
    {
        var dir = Out();
        var r = CliRunner.Run("theory", "qk-bounds", "--widths", "10,1024,1024,1024,10", "--alpha", "0.3", "--json", "--out", dir);
        Assert.Equal(0, r.ExitCode);
        var j = r.Json;
        Assert.Equal(1024, j.GetProperty("theorem1").GetProperty("d").GetInt32());
        Assert.True(j.GetProperty("theorem2").GetProperty("alpha_admissible").GetBoolean());
        Assert.Equal(0.7062, j.GetProperty("theorem3").GetProperty("alpha_max").GetDouble(), 4e-4); // d = 512 channels
        Assert.True(File.Exists(Path.Combine(dir, "qk-bounds.json")));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Table3JsonPairsRowsWithThePaper()
    {
        var dir = Out();
        var r = CliRunner.Run("theory", "table3", "--sizes", "32", "--trials", "20", "--alphas", "0.5", "--json", "--out", dir);
        Assert.Equal(0, r.ExitCode);
        var rows = r.Json.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(4, rows.Count); // U, N(0,1/d), N(0,3/d), pruned α = 0.5
        Assert.Equal("Uniform", rows[0].GetProperty("ours").GetProperty("distribution").GetString());
        Assert.Equal(1.888, rows[0].GetProperty("paper").GetProperty("mean_norm").GetDouble());
        Assert.Equal(1.759, rows[3].GetProperty("paper").GetProperty("mean_norm").GetDouble());
        Assert.Equal(rows[3].GetProperty("ours").GetProperty("mean_norm").GetDouble() / 1.759 - 1, rows[3].GetProperty("mean_norm_relative_difference").GetDouble(), 12);
        Assert.True(File.Exists(Path.Combine(dir, "table3.png")));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void ImpossibleAlphaIsOneLine()
    {
        var r = CliRunner.Run("theory", "qk-bounds", "--theorem", "1", "--alpha", "1.5", "--out", Out());
        Assert.Contains("alpha", CliRunner.AssertOneLineError(r));
    }

    [Fact]
    public void ConvNormOfABoxKernelIsItsSum()
    {
        var dir = Out();
        var r = CliRunner.Run("theory", "conv-norm", "--size", "5", "--kernel", "1,1,1,1,1,1,1,1,1", "--json", "--out", dir);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(9, r.Json.GetProperty("fft_norm").GetDouble(), 10);
        Assert.Equal(9, r.Json.GetProperty("dense_norm").GetDouble(), 10);
        Assert.True(r.Json.GetProperty("max_conv_error").GetDouble() < 1e-12);
        Directory.Delete(dir, true);
    }
}
