using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Tests.Models;

/// <summary>FlopCount against multiply-accumulates, bytes and shapes counted by hand.</summary>
public class FlopCountTests
{
    /// <summary>A mask of <paramref name="shape"/> keeping its first <paramref name="kept"/> entries (row-major).</summary>
    static Tensor FirstKept(long[] shape, long kept)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        return cat([ones(kept), zeros(n - kept)]).reshape(shape);
    }

    [Fact]
    public void Lenet300_at_a_mask_counts_hand_computed_macs_and_bytes()
    {
        using var model = new Mlp(784, [300, 100], 10);
        var layers = Network.Layers(model).Select(l => l.Layer).ToList();
        using (var m0 = FirstKept([300, 784], 23520)) layers[0].SetMask(m0);
        using (var m1 = FirstKept([100, 300], 3000)) layers[1].SetMask(m1);

        var r = FlopCount.Count(model, [1, 28, 28]);

        Assert.Equal(["layers.0.weight", "layers.2.weight", "layers.4.weight"], r.Layers.Select(l => l.Name));
        Assert.Equal([235200L, 30000L, 1000L], r.Layers.Select(l => l.DenseMacs));
        Assert.Equal([23520L, 3000L, 1000L], r.Layers.Select(l => l.KeptMacs));
        Assert.Equal(266200, r.DenseMacs);
        Assert.Equal(27520, r.KeptMacs);
        Assert.Equal(532400, r.DenseFlops);
        Assert.Equal(55040, r.EffectiveFlops);
        Assert.Equal(266200.0 / 27520, r.Reduction!.Value, 12);
        // Activations: (784 + 300) + (300 + 100) + (100 + 10) floats of 4 bytes.
        const long activations = 1594 * 4;
        Assert.Equal(266200 * 4 + activations, r.DenseBytes);
        // CSR: 4-byte value + 4-byte column index per kept weight, rows + 1 row pointers per layer.
        Assert.Equal(27520 * 8 + (301 + 101 + 11) * 4 + activations, r.SparseBytes);
        Assert.Contains(r.Lines, l => l.Contains("55,040", StringComparison.Ordinal) && l.Contains("532,400", StringComparison.Ordinal));
    }

    [Fact]
    public void Strided_and_padded_convolutions_count_output_positions_and_kept_channels()
    {
        // 3×9×9 → conv 3→4, k3, stride 2, pad 1 → 4×5×5 → conv 4→6, k3, no pad → 6×3×3 → flatten → linear 54→2.
        using var model = nn.Sequential(
            ("0", new MaskedConv2d(3, 4, 3, stride: 2, padding: 1)),
            ("1", new MaskedConv2d(4, 6, 3)),
            ("2", nn.Flatten()),
            ("3", new MaskedLinear(54, 2)));
        var conv2 = Network.Layers(model).Single(l => l.Name == "1").Layer;
        using (var m = FirstKept([6, 4, 3, 3], 36)) conv2.SetMask(m); // output channel 0 only

        var r = FlopCount.Count(model, [3, 9, 9]);

        Assert.Equal([[4L, 5, 5], [6L, 3, 3], [2L]], r.Layers.Select(l => l.OutputShape));
        Assert.Equal([25L, 9, 1], r.Layers.Select(l => l.Positions));
        Assert.Equal([3L * 9 * 4 * 25, 4L * 9 * 6 * 9, 54L * 2], r.Layers.Select(l => l.DenseMacs));
        Assert.Equal(36 * 9, r.Layers[1].KeptMacs);
        Assert.Equal(2700 + 324 + 108, r.KeptMacs);
        Assert.Equal(36 * 8 + 7 * 4, r.Layers[1].SparseWeightBytes);
        Assert.Equal((4 * 5 * 5 + 6 * 3 * 3) * 4, r.Layers[1].ActivationBytes);
    }

    [Fact]
    public void A_downsampling_residual_block_counts_both_convolutions_and_the_1x1_shortcut()
    {
        using var block = new BasicBlock(4, 8, downsample: true, 1.0, ShortcutKind.B, "relu", "zeros");

        var r = FlopCount.Count(block, [4, 8, 8]);

        Assert.Equal(["conv1.weight", "conv2.weight", "shortcut.0.weight"], r.Layers.Select(l => l.Name));
        Assert.Equal([4L * 9 * 8 * 16, 8L * 9 * 8 * 16, 4L * 8 * 16], r.Layers.Select(l => l.DenseMacs));
        Assert.Equal(14336, r.DenseMacs);
        Assert.Equal(r.DenseMacs, r.KeptMacs);
    }

    [Fact]
    public void Kept_never_exceeds_dense_and_equals_it_without_masks()
    {
        using var model = ModelRegistry.Create(new ModelSpec("resnet20", WidthMultiplier: 0.5), [3, 32, 32], 10);
        model.train();
        var dense = FlopCount.Count(model, [3, 32, 32]);
        Assert.True(model.training);
        Assert.Equal(dense.DenseMacs, dense.KeptMacs);
        Assert.Equal(dense.DenseBytes - dense.Layers.Sum(l => l.DenseWeightBytes), dense.SparseBytes - dense.Layers.Sum(l => l.SparseWeightBytes));
        Assert.Equal(Network.Layers(model).Count(), dense.Layers.Count);

        using var gen = new TorchSharp.torch.Generator(7);
        foreach (var (_, layer) in Network.Layers(model))
        {
            using var m = rand(layer.weight.shape, generator: gen).gt(0.8);
            layer.SetMask(m);
        }
        var sparse = FlopCount.Count(model, [3, 32, 32]);
        Assert.All(sparse.Layers.Zip(dense.Layers), p =>
        {
            Assert.True(p.First.KeptMacs <= p.First.DenseMacs);
            Assert.Equal(p.Second.DenseMacs, p.First.DenseMacs);
        });
        Assert.True(sparse.KeptMacs < sparse.DenseMacs);
        // The kept counts of a stored pruning record give the same report.
        var kept = Network.Layers(model).ToDictionary(l => $"{l.Name}.weight", l => l.Layer.WeightMask!.count_nonzero().item<long>());
        Assert.Equal(sparse.KeptMacs, dense.WithKept(kept).KeptMacs);
    }
}
