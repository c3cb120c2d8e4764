using InitPrune.Data;
using TorchSharp;

namespace InitPrune.Tests.Data;

public class DataLoaderTests
{
    /// <summary>N samples whose input and label both equal the sample index.</summary>
    static Dataset Indexed(int n) =>
        new("indexed", torch.arange(n, dtype: torch.ScalarType.Float32).reshape(n, 1), torch.arange(n, dtype: torch.ScalarType.Int64), TaskKind.Classification, n);

    static long[] Order(DataLoader loader, int epoch, List<long>? sizes = null)
    {
        var order = new List<long>();
        foreach (var (x, y) in loader.Epoch(epoch))
            using (x)
            using (y)
            {
                var xs = x.data<float>().ToArray();
                var ys = y.data<long>().ToArray();
                Assert.Equal(xs.Select(v => (long)v), ys);
                Assert.Equal(1, x.shape[1]);
                sizes?.Add(x.shape[0]);
                order.AddRange(ys);
            }
        return [.. order];
    }

    [Fact]
    public void EachEpochIsAPermutationWithAPartialLastBatch()
    {
        using var data = Indexed(103);
        var loader = new DataLoader(data, 10, shuffle: true, seed: 42);
        Assert.Equal(11, loader.BatchesPerEpoch);
        var sizes = new List<long>();
        var order = Order(loader, 0, sizes);
        Assert.Equal([.. Enumerable.Repeat(10L, 10), 3L], sizes);
        Assert.Equal(Enumerable.Range(0, 103).Select(i => (long)i), order.Order());
        Assert.NotEqual(Enumerable.Range(0, 103).Select(i => (long)i), order);
    }

    [Fact]
    public void OrderDependsOnSeedAndEpochOnly()
    {
        using var data = Indexed(50);
        var a = new DataLoader(data, 8, shuffle: true, seed: 1);
        var b = new DataLoader(data, 8, shuffle: true, seed: 1);
        var c = new DataLoader(data, 8, shuffle: true, seed: 2);
        Assert.Equal(Order(a, 3), Order(b, 3));
        Assert.Equal(Order(a, 3), Order(a, 3));
        Assert.NotEqual(Order(a, 3), Order(a, 4));
        Assert.NotEqual(Order(a, 3), Order(c, 3));
        using var perm = a.Permutation(3);
        Assert.Equal(Order(a, 3), perm.data<long>().ToArray());
    }

    [Fact]
    public void DropLastSkipsThePartialBatch()
    {
        using var data = Indexed(103);
        var loader = new DataLoader(data, 10, shuffle: true, seed: 0, dropLast: true);
        Assert.Equal(10, loader.BatchesPerEpoch);
        var sizes = new List<long>();
        var order = Order(loader, 0, sizes);
        Assert.All(sizes, s => Assert.Equal(10L, s));
        Assert.Equal(100, order.Distinct().Count());
    }

    [Fact]
    public void UnshuffledBatchesAreInOrder()
    {
        using var data = Indexed(25);
        var loader = new DataLoader(data, 10, shuffle: false, seed: 9);
        var sizes = new List<long>();
        Assert.Equal(Enumerable.Range(0, 25).Select(i => (long)i), Order(loader, 5, sizes));
        Assert.Equal([10L, 10, 5], sizes);
    }

    [Fact]
    public void ImageBatchesKeepSampleShapeAndRegressionTargets()
    {
        using var images = new Dataset("img", torch.zeros(7, 1, 4, 4), torch.zeros(7, 1), TaskKind.Regression, 0);
        var batches = new DataLoader(images, 4, shuffle: true, seed: 0).Epoch(0).ToList();
        Assert.Equal([4L, 1, 4, 4], batches[0].X.shape);
        Assert.Equal([3L, 1, 4, 4], batches[1].X.shape);
        Assert.Equal([3L, 1], batches[1].Y.shape);
        foreach (var (x, y) in batches)
        {
            x.Dispose();
            y.Dispose();
        }
    }

    [Fact]
    public void BatchesSurviveCallerDisposeScopes()
    {
        using var data = Indexed(30);
        var loader = new DataLoader(data, 4, shuffle: true, seed: 3);
        var seen = new List<long>();
        foreach (var (x, y) in loader.Epoch(1))
        {
            using var scope = torch.NewDisposeScope();
            seen.AddRange(y.data<long>().ToArray());
            x.Dispose();
            y.Dispose();
        }
        Assert.Equal(Order(loader, 1), seen);
    }
}
