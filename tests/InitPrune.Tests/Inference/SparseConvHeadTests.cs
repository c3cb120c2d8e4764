using InitPrune.Engine;
using InitPrune.Inference;
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
    [InlineData("conv2", "circular")]
    [InlineData("conv4", "zeros")]
    public void The_file_round_trips_and_pytorch_rebuilds_it(string name, string padding)
    {
        using var dir = new TempDir();
        long[] shape = [3, 32, 32];
        var (model, masks) = RandomNet(new ModelSpec(name, Padding: padding, WidthMultiplier: 0.125), shape, 0.9, 7);
        using var _ = model;
        Safetensors.Save(dir.File("w.safetensors"), Network.FullStateDict(model));
        using (var mask = new InitPrune.Pruning.Mask(new TensorDict(masks.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.clone())))))
            mask.Save(dir.File("mask.safetensors"));
        var export = SparseExport.Export(new SparseExportRequest(dir.File("w.safetensors"), dir.File("mask.safetensors"), name, Out: dir.File("m.sparse.safetensors"), InputShape: shape, Padding: padding));
        Assert.Equal(masks.Values.Sum(m => m.count_nonzero().item<long>()), export.Layers.Sum(l => l.KeptWeights));
        var back = Assert.IsType<SparseConvHeadNet>(SparseFile.Load(export.File));
        Assert.Equal(SparseConvHeadNet.Family, back.Architecture.Family);
        var sparse = Compact(model, masks, name, shape, padding);
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
