using InitPrune.Engine;
using InitPrune.Inference;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Tests.Data;
using TorchSharp;
using static InitPrune.Tests.Inference.SparseConvNetTests;
using static TorchSharp.torch;

namespace InitPrune.Tests.Inference;

/// <summary>
/// Sparse Conv-2/4 (family convnet-linear-head): convolutions, the last block's pooling, the flattened features through
/// the linear head, against libtorch's dense masked ConvN in eval mode; the file, PyTorch's rebuild and the errors.
/// </summary>
public class SparseConvHeadTests
{
    static SparseConvHeadNet Compact(nn.Module<Tensor, Tensor> model, Dictionary<string, Tensor> masks, string name, long[] shape, string padding) =>
        Assert.IsType<SparseConvHeadNet>(SparseExport.InMemory(Network.FullStateDict(model), masks, name, "relu", shape, padding));

    [Theory]
    [InlineData("conv2", "zeros", 0.0, 32, 2)]
    [InlineData("conv2", "circular", 0.9, 28, 3)]
    [InlineData("conv2", "zeros", 0.99, 28, 1)]
    [InlineData("conv4", "circular", 0.0, 28, 1)]
    [InlineData("conv4", "zeros", 0.9, 32, 2)]
    [InlineData("conv4", "circular", 0.99, 32, 3)]
    public void The_sparse_convn_computes_the_dense_masked_networks_logits(string name, string padding, double sparsity, int side, int batch)
    {
        long[] shape = [side == 28 ? 1 : 3, side, side];
        var (model, masks) = RandomNet(new ModelSpec(name, Padding: padding, WidthMultiplier: 0.125), shape, sparsity, seed: batch);
        using var _ = model;
        var sparse = Compact(model, masks, name, shape, padding);
        Assert.Equal(name == "conv2" ? 2 : 4, sparse.Convs.Count);
        Assert.Equal(name == "conv2" ? 0 : 1, sparse.Convs.Count(c => c.PoolBefore));
        Assert.Equal(["classifier.0", "classifier.2", "classifier.4"], sparse.Layers.Select(l => l.Name));
        Assert.Equal(sparsity >= 0.7, sparse.Convs.All(c => c.Csr is not null));
        if (sparsity >= 0.99) Assert.True(sparse.Layers[0].OutFeatures < sparse.Layers[0].OriginalOutFeatures, "no dead hidden unit removed at 99%");

        using var x = randn([batch, .. shape], generator: new Generator(9));
        AssertClose(Dense(model, x), sparse.Forward(x.data<float>().ToArray(), batch), 1e-4);
    }

    [Theory]
    [InlineData("conv2", "circular", 0.9)]
    [InlineData("conv4", "zeros", 0.9)]
    [InlineData("conv2", "zeros", 0.97)]
    public void The_file_round_trips_and_pytorch_rebuilds_it(string name, string padding, double sparsity)
    {
        using var dir = new TempDir();
        long[] shape = [3, 32, 32];
        var (model, masks) = RandomNet(new ModelSpec(name, Padding: padding, WidthMultiplier: 0.125), shape, sparsity, 7);
        using var _ = model;
        Safetensors.Save(dir.File("w.safetensors"), Network.FullStateDict(model));
        using (var mask = new InitPrune.Pruning.Mask(new TensorDict(masks.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.clone())))))
            mask.Save(dir.File("mask.safetensors"));
        var export = SparseExport.Export(new SparseExportRequest(dir.File("w.safetensors"), dir.File("mask.safetensors"), name, Out: dir.File("m.sparse.safetensors"), InputShape: shape, Padding: padding));
        Assert.Equal(masks.Values.Sum(m => m.count_nonzero().item<long>()), export.Layers.Sum(l => l.KeptWeights));
        var back = Assert.IsType<SparseConvHeadNet>(SparseFile.Load(export.File));
        Assert.Equal(SparseConvHeadNet.Family, back.Architecture.Family);
        var sparse = Compact(model, masks, name, shape, padding);
        if (sparsity > 0.95) Assert.Contains(back.Convs, c => c.OutChannels < c.OriginalOutChannels); // the rebuild reads a file with channels removed
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(sparse.Architecture with { Source = back.Source }), System.Text.Json.JsonSerializer.Serialize(back.Architecture));
        using var x = randn([4, .. shape], generator: new Generator(1));
        var inputs = x.data<float>().ToArray();
        var logits = back.Forward(inputs, 4);
        Assert.Equal(sparse.Forward(inputs, 4), logits);
        AssertClose(Dense(model, x), logits, 1e-4);
        Assert.Equal(back.Forward(inputs, 4, threads: 1), back.Forward(inputs, 4, threads: 3));

        Safetensors.Save(dir.File("inputs.safetensors"), new Dictionary<string, Tensor> { ["inputs"] = x });
        using (var outputs = tensor(logits, [4, 10]))
            Safetensors.Save(dir.File("outputs.safetensors"), new Dictionary<string, Tensor> { ["outputs"] = outputs });
        var line = PyTorchScript.Run("sparse_model.py", export.File, dir.File("inputs.safetensors"), dir.File("outputs.safetensors"));
        Assert.Contains("\"layout_errors\": []", line);
        Assert.DoesNotContain("\"csr_layers\": 0", line);
    }

    /// <summary>
    /// Conv-4 (⅛ width: 8, 8, 16, 16 channels, head 32, 32, 10) on 3 × 8 × 8, every weight kept but these:
    /// layers.0 channel 1 and layers.2 channel 6 have no incoming weight and biases 0.7 and 0.5 (constants read by the
    /// next convolution: folded into its bias with circular padding, kept with zeros; the second through a pooling);
    /// layers.5 reads nothing of layers.2's channel 3 (removed) and its channel 0 is ReLU(−0.5) = 0 (removed);
    /// layers.7 channel 5 is the constant 0.4 (folded into classifier.0), channel 9 is ReLU(−0.3) = 0, and
    /// classifier.0 reads nothing of channel 2 (its columns 8–11 of 2 · 2 per channel) and channel 11 only through unit
    /// 4, which classifier.2 does not read: unit 4 goes, then channel 11; unit 7 reads only channel 9, so once that goes
    /// unit 7 is the constant ReLU(0.2), folded into classifier.2.
    /// </summary>
    [Theory]
    [InlineData("zeros", new[] { 0, 1, 1, 4, 2, 0, 0 }, new[] { 0, 0, 0, 0, 1, 1, 0 })]
    [InlineData("circular", new[] { 1, 2, 1, 4, 2, 0, 0 }, new[] { 0, 1, 1, 0, 1, 1, 0 })]
    public void Dead_conv_channels_are_removed_and_constant_ones_folded_where_exact(string padding, int[] removed, int[] folded)
    {
        long[] shape = [3, 8, 8];
        var (model, state, masks) = KeepingAll("conv4", padding, shape);
        using var _ = model;
        masks["layers.0.weight"][1] = false;
        masks["layers.2.weight"][6] = false;
        masks["layers.5.weight"][.., 3] = false;
        masks["layers.5.weight"][0] = false;
        masks["layers.7.weight"][5] = false;
        masks["layers.7.weight"][9] = false;
        masks["classifier.0.weight"][.., 8..12] = false;
        masks["classifier.0.weight"][.., 44..48] = false;
        masks["classifier.0.weight"][4, 44..48] = true;
        masks["classifier.0.weight"][7] = false;
        masks["classifier.0.weight"][7, 36..40] = true;
        masks["classifier.2.weight"][.., 4] = false;
        using (no_grad())
        {
            state["layers.0.bias"][1] = tensor(0.7f);
            state["layers.2.bias"][6] = tensor(0.5f);
            state["layers.5.bias"][0] = tensor(-0.5f);
            state["layers.7.bias"][5] = tensor(0.4f);
            state["layers.7.bias"][9] = tensor(-0.3f);
            state["classifier.0.bias"][7] = tensor(0.2f);
        }
        var (sparse, report) = Build(state, masks, "conv4", shape, padding);
        Assert.Equal(["layers.0", "layers.2", "layers.5", "layers.7", "classifier.0", "classifier.2", "classifier.4"], report.Select(l => l.Name));
        Assert.Equal(removed, report.Select(l => l.UnitsRemoved));
        Assert.Equal(folded, report.Select(l => l.BiasesFolded));
        Assert.Equal([0, 1, 3, 4, 6, 7, 8, 10, 12, 13, 14, 15], sparse.Convs[3].KeptChannels);
        Assert.Equal(16, sparse.Convs[3].OriginalOutChannels);
        Assert.Equal(12 * 2 * 2, sparse.Layers[0].InFeatures);
        Assert.DoesNotContain(4, sparse.Layers[0].KeptUnits);
        Assert.DoesNotContain(7, sparse.Layers[0].KeptUnits);
        Assert.Equal(sparse.Convs.Select(c => c.OutChannels), report.Take(4).Select(l => l.OutFeatures));
        var (_, dense) = sparse.MultiplyAdds();
        Assert.Equal(64L * (3 * 8 + 8 * 8) * 9 + 16L * (8 * 16 + 16 * 16) * 9 + 64 * 32 + 32 * 32 + 32 * 10, dense);
        using var x = randn([5, .. shape], generator: new Generator(4));
        AssertClose(Dense(model, x), sparse.Forward(x.data<float>().ToArray(), 5), 1e-4);
    }

    /// <summary>
    /// Conv-2 (8, 8 channels, head 32, 32, 10) on 1 × 8 × 8, every weight kept but classifier.0's reads of layers.2's
    /// channel 3 (its 4 · 4 columns 48–63), kept only in unit 4, which classifier.2 does not read: no channel is dead
    /// until the head's dead-unit pass removes unit 4, then channel 3 goes.
    /// </summary>
    [Fact]
    public void A_channel_read_only_by_a_dead_head_unit_goes_with_it()
    {
        long[] shape = [1, 8, 8];
        var (model, state, masks) = KeepingAll("conv2", "zeros", shape);
        using var _ = model;
        masks["classifier.0.weight"][.., 48..64] = false;
        masks["classifier.0.weight"][4, 48..64] = true;
        masks["classifier.2.weight"][.., 4] = false;
        var (sparse, report) = Build(state, masks, "conv2", shape, "zeros");
        Assert.Equal([0, 1, 1, 0, 0], report.Select(l => l.UnitsRemoved));
        Assert.Equal([0, 1, 2, 4, 5, 6, 7], sparse.Convs[1].KeptChannels);
        Assert.Equal(7 * 4 * 4, sparse.Layers[0].InFeatures);
        using var x = randn([3, .. shape], generator: new Generator(2));
        AssertClose(Dense(model, x), sparse.Forward(x.data<float>().ToArray(), 3), 1e-4);
    }

    /// <summary>A ⅛-width ConvN (normal init, biases N(0, 0.3²)), its live state_dict and masks keeping every weight; the model in eval mode.</summary>
    static (nn.Module<Tensor, Tensor> Model, Dictionary<string, Tensor> State, Dictionary<string, Tensor> Masks) KeepingAll(string name, string padding, long[] shape)
    {
        var model = ModelRegistry.Create(new ModelSpec(name, Padding: padding, WidthMultiplier: 0.125), shape, 10);
        Initializers.Apply(model, new InitSpec("normal", 1.5, 0.3), 11);
        model.eval();
        var state = Network.FullStateDict(model);
        return (model, state, state.Where(kv => kv.Key.EndsWith(".weight", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => ones_like(kv.Value, dtype: ScalarType.Bool)));
    }

    /// <summary>Applies <paramref name="masks"/> to the live <paramref name="state"/> and exports it (every layer dense), with the per-layer report.</summary>
    static (SparseConvHeadNet, List<SparseExportLayer>) Build(Dictionary<string, Tensor> state, Dictionary<string, Tensor> masks, string name, long[] shape, string padding)
    {
        using (no_grad())
            foreach (var (k, m) in masks) state[k].mul_(m);
        var (sparse, report, _) = SparseConvHeadExport.Build(state, masks, name, "relu", shape, padding, 1, new Dictionary<string, string>());
        return (sparse, report);
    }

    [Fact]
    public void Export_refuses_weights_that_do_not_fit_in_one_line()
    {
        var (model, masks) = RandomNet(new ModelSpec("conv2", WidthMultiplier: 0.125), [3, 32, 32], 0.5, 1);
        using var _ = model;
        var state = Network.FullStateDict(model);
        InitPruneException Refuse(string name, long[]? shape) =>
            Assert.Throws<InitPruneException>(() => SparseExport.InMemory(state, masks, name, "relu", shape));
        Assert.Contains("lack 'layers.5.weight' of a conv4", Refuse("conv4", [3, 32, 32]).Message);
        Assert.Contains("not part of a vcnn", Refuse("vcnn", [3, 32, 32]).Message);
        Assert.Contains("--input-shape", Refuse("conv2", null).Message);
        Assert.Contains("3,H,W", Refuse("conv2", [1, 32, 32]).Message);
        Assert.Contains("gives 1568 features after the convolutions", Refuse("conv2", [3, 28, 28]).Message);
        var (conv4, conv4Masks) = RandomNet(new ModelSpec("conv4", WidthMultiplier: 0.125), [3, 32, 32], 0.5, 1);
        using (conv4)
            Assert.Contains("'layers.5.weight', which is not part of a conv2", Assert.Throws<InitPruneException>(() =>
                SparseExport.InMemory(Network.FullStateDict(conv4), conv4Masks, "conv2", "relu", [3, 32, 32])).Message);
    }
}
