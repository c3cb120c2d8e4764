using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Theory.Sparsity;

public class SparsityCliTests
{
    [Fact]
    public void KeepProbJsonGivesTheRatioOfVariances()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("theory", "keep-prob", "--sigma-w-eoc", "1", "--sigma-w", "2,4", "--json", "--out", dir.Path);
        Assert.Equal(0, r.ExitCode);
        var layers = r.Json.GetProperty("layers");
        Assert.Equal(0.25, layers[0].GetProperty("keep_probability").GetDouble(), 12);
        Assert.Equal(0.0625, layers[1].GetProperty("keep_probability").GetDouble(), 12);
        Assert.True(File.Exists(dir.File("keep-prob.json")));
    }

    [Fact]
    public void KeepProbBelowTheEdgeIsAOneLineError()
    {
        using var dir = new TempDir();
        var line = CliRunner.AssertOneLineError(CliRunner.Run("theory", "keep-prob", "--sigma-w-eoc", "1", "--sigma-w", "0.5", "--out", dir.Path));
        Assert.Contains("sigma_w,EOC", line);
    }

    [Fact]
    public void CriticalSparsityJsonHasBoundsSimulationAndPlot()
    {
        // χ = 0.2: κ = ln(5)/8 = 0.201180; L = 5, N = 10: (1 + log10(0.20118·5·100)/0.20118)/5 = 2.191.
        using var dir = new TempDir();
        var r = CliRunner.Run("theory", "s-cr", "--layers", "5,8", "--width", "10", "--samples", "2", "--batch-size", "8", "--chi", "0.2", "--json", "--out", dir.Path);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(0.201180, r.Json.GetProperty("kappa").GetDouble(), 6);
        var rows = r.Json.GetProperty("rows");
        Assert.Equal(2, rows.GetArrayLength());
        Assert.Equal(2.191, rows[0].GetProperty("sbp_bound_log10").GetDouble(), 3);
        Assert.Equal(2, rows[1].GetProperty("samples").GetArrayLength());
        Assert.InRange(rows[1].GetProperty("mean").GetDouble(), 0, 1);
        Assert.True(File.Exists(dir.File("s-cr.json")) && File.Exists(dir.File("s-cr.png")));
    }

    [Fact]
    public void TnTableShowsRandomAndMagnitudeFactors()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("theory", "tn", "--widths", "4", "--sparsities", "0,0.5", "--out", dir.Path);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("1.41421", r.Stdout);
        Assert.Contains("edge magnitude", r.Stdout);
        Assert.True(File.Exists(dir.File("tn.png")));
    }
}
