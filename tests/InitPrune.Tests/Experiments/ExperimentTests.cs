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
