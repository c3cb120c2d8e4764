using InitPrune.Inference;

namespace InitPrune.Tests.Inference;

/// <summary>The batch transpose against its definition <c>t[u, i] = a[i, pick[u]]</c>, on the gather path and the portable one.</summary>
public class BatchLayoutTests
{
    [Theory]
    [InlineData(1, 13)]
    [InlineData(7, 13)]
    [InlineData(8, 784)]
    [InlineData(33, 784)]
    [InlineData(256, 100)]
    public void Transpose_copies_every_picked_column_on_both_paths(int rows, int columns)
    {
        var rng = new Random(rows + columns);
        var a = Enumerable.Range(0, rows * columns).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        int[] some = [0, .. Enumerable.Range(1, columns - 2).Where(_ => rng.NextDouble() < 0.3), columns - 1];
        foreach (var pick in new[] { null, some })
        {
            var cols = pick ?? [.. Enumerable.Range(0, columns)];
            var expected = new float[cols.Length * rows + 5];
            for (int u = 0; u < cols.Length; u++)
                for (int i = 0; i < rows; i++) expected[u * rows + i] = a[i * columns + cols[u]];
            foreach (var vectorize in new[] { true, false })
            {
                var t = new float[expected.Length]; // a longer buffer (as the pool rents): the entries past the transpose stay 0
                Assert.Same(t, BatchLayout.Transpose(a, rows, columns, pick, t, vectorize));
                Assert.Equal(expected, t);
            }
        }
    }

    [Fact]
    public void Transpose_refuses_buffers_too_short_in_one_line()
    {
        var e = Assert.Throws<ArgumentException>(() => BatchLayout.Transpose(new float[12], 3, 4, [0, 2], new float[5]));
        Assert.Contains("do not fit", e.Message);
    }
}
