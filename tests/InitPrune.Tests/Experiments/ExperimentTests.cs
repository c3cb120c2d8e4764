using InitPrune.Data;
using InitPrune.Experiments;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Data;
using InitPrune.Training;

namespace InitPrune.Tests.Experiments;

[Collection(DataEnvironmentCollection.Name)]
public class ExperimentTests
{
    [Fact]
    public void QuickstartFallsBackToTheEllipseTaskAndSaysSo()
    {
        using var empty = new TempDir();
        using var env = new DataEnvironment(null, empty.Path, empty.Path);
        var options = new QuickstartOptions(Methods: ["magnitude"], Sparsities: [0.0, 0.5], Epochs: 1);
        Assert.Equal(Quickstart.FallbackNote, Quickstart.Describe(options));
        Assert.Contains("apt-get install dataset-fashion-mnist", Quickstart.FallbackNote);
        var result = Quickstart.Run(options, empty.Sub("out"));
        Assert.Equal("ellipse", result.Dataset);
        Assert.Equal(Quickstart.FallbackNote, result.Note);
        Assert.Equal(2, result.Runs.Count);
        Assert.All(result.Runs, r => Assert.InRange(r.TestAccuracy, 0.3, 1.0));
        Assert.True(File.Exists(Path.Combine(empty.Path, "out", "accuracy.png")));
    }

    [Fact]
    public void TrainJobIsDeterministicGivenTheSeed()
    {
        using var dir = new TempDir();
        var o = new TrainOptions("ellipse", new ModelSpec("mlp", Depth: 2, Width: 32), new InitSpec(), new TrainConfig(Epochs: 1), Seed: 11);
        var a = TrainJob.Run(o, dir.Sub("a"));
        var b = TrainJob.Run(o, dir.Sub("b"));
        var c = TrainJob.Run(o with { Seed = 12 }, dir.Sub("c"));
        Assert.Equal(a.Epochs[0].TrainLoss, b.Epochs[0].TrainLoss);
        Assert.NotEqual(a.Epochs[0].TrainLoss, c.Epochs[0].TrainLoss);
    }

    /// <summary>
    /// A disk that fills up at any write of train's outputs (the n-th write of <paramref name="failing"/>) leaves one
    /// run's consistent outputs: final.safetensors only beside a metrics.json of the same run that says completed.
    /// It used to leave the previous run's final.safetensors beside this run's "completed": false.
    /// </summary>
    [Theory]
    [InlineData("metrics.json", 1)] // before training: the previous run's outputs stay as they were
    [InlineData("metrics.json", 3)] // after epoch 2 of 3
    [InlineData("final.safetensors", 1)]
    [InlineData("metrics.json", 5)] // the completed metrics, after the weights
    public void A_failed_write_leaves_the_outputs_of_one_run_consistent(string failing, int nth)
    {
        using var dir = new TempDir();
        var outDir = dir.File("out");
        var o = new TrainOptions("ellipse", new ModelSpec("mlp", Depth: 2, Width: 16), new InitSpec(), new TrainConfig(Epochs: 3), Seed: 1);
        var previous = TrainJob.Run(o, outDir);
        var previousWeights = File.ReadAllBytes(Path.Combine(outDir, TrainJob.FinalFile));
        var previousMetrics = File.ReadAllText(Path.Combine(outDir, TrainJob.MetricsFile));

        int writes = 0;
        void Full(string path)
        {
            if (Path.GetFileName(path) == failing && ++writes == nth) throw new IOException("No space left on device");
        }
        Assert.Throws<IOException>(() => TrainJob.Run(o with { Seed = 2 }, outDir, writing: Full));

        var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, TrainJob.MetricsFile))).RootElement;
        var final = Path.Combine(outDir, TrainJob.FinalFile);
        if (failing == "metrics.json" && nth == 1)
        {
            Assert.Equal(previousMetrics, File.ReadAllText(Path.Combine(outDir, TrainJob.MetricsFile)));
            Assert.Equal(previousWeights, File.ReadAllBytes(final));
            Assert.True(previous.Completed);
        }
        else
        {
            Assert.Equal(2, metrics.GetProperty("seed").GetInt64());
            Assert.False(metrics.GetProperty("completed").GetBoolean());
            Assert.Equal(failing == "metrics.json" && nth == 3 ? 1 : 3, metrics.GetProperty("epochs").GetArrayLength());
            Assert.False(File.Exists(final), "no final weights that the metrics do not vouch for");
        }
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp"));
    }

    [Fact]
    public void PruneJobReportsPerLayerCountsThatAddUp()
    {
        using var dir = new TempDir();
        var s = PruneJob.Run(new PruneOptions("ellipse", new ModelSpec("mlp", Depth: 2, Width: 50), new InitSpec(), new PruneSpec("snip", 0.8, PruneScope.LayerWise)), dir.Path);
        Assert.Equal(s.Total, s.Layers.Sum(l => l.Total));
        Assert.Equal(s.Kept, s.Layers.Sum(l => l.Kept));
        Assert.All(s.Layers, l => Assert.Equal(MaskBuilder.KeepCount(0.8, l.Total), l.Kept));
        Assert.Empty(s.Warnings);
    }
}
