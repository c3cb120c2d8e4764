using InitPrune.Data;
using TorchSharp;

namespace InitPrune.Tests.Data;

public class SyntheticTests
{
    static bool Same(torch.Tensor a, torch.Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static bool Same(DatasetSplit a, DatasetSplit b) =>
        Same(a.Train.Inputs, b.Train.Inputs) && Same(a.Train.Targets, b.Train.Targets) && Same(a.Test.Inputs, b.Test.Inputs) && Same(a.Test.Targets, b.Test.Targets);

    /// <summary>The rule of seed 004 §6, written out independently of the library.</summary>
    static int NoiselessClass(double x1, double x2)
    {
        var score = 0.5 * Math.Pow(x1 - 0.3, 2) + 1.2 * Math.Pow(x2 + 0.5, 2);
        return score < 0.2 ? 0 : score < 0.5 ? 1 : score < 0.7 ? 2 : 3;
    }

    [Fact]
    public void SameSeedIsBitIdenticalAndDifferentSeedDiffers()
    {
        using var e1 = Synthetic.Ellipse(7);
        using var e2 = DatasetRegistry.Load("ellipse", seed: 7);
        using var e3 = Synthetic.Ellipse(8);
        Assert.True(Same(e1, e2));
        Assert.False(Same(e1, e3));
        using var r1 = Synthetic.ShiftedRelu(7);
        using var r2 = DatasetRegistry.Load("shifted-relu", seed: 7);
        using var r3 = Synthetic.ShiftedRelu(8);
        Assert.True(Same(r1, r2));
        Assert.False(Same(r1, r3));
        Assert.Equal("synthetic (seed 7)", e1.Source);
    }

    /// <summary>Arguments are checked against the nominal shape before any data is read: it must be the shape the data has.</summary>
    [Theory]
    [InlineData("ellipse")]
    [InlineData("shifted-relu")]
    public void TheNominalShapeIsTheShapeOfTheData(string name)
    {
        using var s = DatasetRegistry.Load(name);
        var (shape, outputs) = DatasetRegistry.NominalShape(name);
        Assert.Equal(s.Train.SampleShape, shape);
        Assert.Equal(s.Train.Kind == TaskKind.Classification ? s.Train.NumClasses : 1, outputs);
    }

    [Fact]
    public void EllipseHasTheDocumentedShapeAndSplit()
    {
        using var s = Synthetic.Ellipse(1);
        Assert.Equal([8000L, 2], s.Train.Inputs.shape);
        Assert.Equal([2000L, 2], s.Test.Inputs.shape);
        Assert.Equal(torch.ScalarType.Int64, s.Train.Targets.dtype);
        Assert.Equal((TaskKind.Classification, 4, 2L), (s.Train.Kind, s.Train.NumClasses, s.Train.InputSize));
        Assert.True(s.Train.Inputs.abs().max().item<float>() <= 1f);
        using var small = Synthetic.Ellipse(1, 100);
        Assert.Equal((80L, 20L), (small.Train.Count, small.Test.Count));
    }

    [Fact]
    public void EllipseLabelsFollowTheRuleWithRareNeighbourFlips()
    {
        using var s = Synthetic.Ellipse(3);
        var x = torch.cat([s.Train.Inputs, s.Test.Inputs]).data<float>().ToArray();
        var y = torch.cat([s.Train.Targets, s.Test.Targets]).data<long>().ToArray();
        var flips = 0;
        var counts = new int[4];
        for (var i = 0; i < y.Length; i++)
        {
            var clean = NoiselessClass(x[2 * i], x[2 * i + 1]);
            counts[clean]++;
            if (y[i] == clean)
                continue;
            flips++;
            Assert.Equal(1, Math.Abs(y[i] - clean));
        }
        Assert.InRange(flips, 50, 150);
        Assert.All(counts, c => Assert.True(c > 500, $"class counts {string.Join(", ", counts)}"));
    }

    [Theory]
    [InlineData(0.3, -0.5, 0)]
    [InlineData(0.3, -0.0918, 0)]
    [InlineData(0.3, -0.0917, 1)]
    [InlineData(-0.5, -0.5, 1)]
    [InlineData(0.3, 0.2, 2)]
    [InlineData(0.3, 0.25, 2)]
    [InlineData(0.3, 0.27, 3)]
    [InlineData(-1.0, -0.5, 3)]
    [InlineData(1.0, 1.0, 3)]
    public void EllipseClassBoundaries(double x1, double x2, int expected)
    {
        Assert.Equal(expected, Synthetic.EllipseClass(x1, x2));
        Assert.Equal(expected, NoiselessClass(x1, x2));
    }

    [Fact]
    public void ShiftedReluHasSmallGaussianNoise()
    {
        using var s = Synthetic.ShiftedRelu(5);
        Assert.Equal([8000L, 1], s.Train.Inputs.shape);
        Assert.Equal([2000L, 1], s.Test.Targets.shape);
        Assert.Equal((TaskKind.Regression, 0), (s.Train.Kind, s.Train.NumClasses));
        var x = torch.cat([s.Train.Inputs, s.Test.Inputs]).data<float>().ToArray();
        var y = torch.cat([s.Train.Targets, s.Test.Targets]).data<float>().ToArray();
        var r = x.Select((xi, i) => y[i] - Math.Max(0.0, xi + 0.5)).ToArray();
        var mean = r.Average();
        var std = Math.Sqrt(r.Sum(v => (v - mean) * (v - mean)) / (r.Length - 1));
        Assert.InRange(mean, -0.001, 0.001);
        Assert.InRange(std, 0.0095, 0.0105);
        Assert.InRange(x.Min(), -1f, -0.99f);
        Assert.InRange(x.Max(), 0.99f, 1f);
    }
}
