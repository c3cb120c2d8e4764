using InitPrune.Tests.Cli;
using InitPrune.Theory;

namespace InitPrune.Tests.Theory.MeanField;

public class MeanFieldCliTests
{
    [Fact]
    public void EocPrintsJsonWithTheLibraryValues()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"mf-eoc-{Guid.NewGuid():N}");
        var r = CliRunner.Run("theory", "eoc", "--activation", "elu", "--sigma-b", "0.2", "--json", "--out", dir);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(EdgeOfChaos.SigmaW("elu", 0.2), r.Json.GetProperty("sigma_w").GetDouble(), 1e-12);
        Assert.Equal(1.0, r.Json.GetProperty("chi").GetDouble(), 1e-9);
        Assert.True(File.Exists(Path.Combine(dir, "eoc.json")));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void PhaseDiagramWritesItsPlotAndTimesTheCurve()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"mf-pd-{Guid.NewGuid():N}");
        var r = CliRunner.Run("theory", "eoc-curve", "--activations", "tanh,relu", "--points", "5", "--time", "--json", "--out", dir);
        Assert.Equal(0, r.ExitCode);
        var curves = r.Json.GetProperty("curves");
        Assert.Equal(Math.Sqrt(2), curves[1].GetProperty("sigma_w")[0].GetDouble(), 1e-10);
        Assert.True(r.Json.GetProperty("seconds").GetDouble() > 0);
        Assert.True(File.Exists(Path.Combine(dir, "phase-diagram.png")));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void ImpossibleSigmaWIsAOneLineError()
    {
        var line = CliRunner.AssertOneLineError(CliRunner.Run("theory", "phase", "--sigma-w", "-1", "--out", Path.GetTempPath()));
        Assert.Contains("sigma_w", line);
    }
}
