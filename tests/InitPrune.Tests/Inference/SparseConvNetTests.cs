using InitPrune.Engine;
using InitPrune.Inference;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Tests.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Inference;

/// <summary>
/// Sparse conv nets (vcnn, VGG with and without BatchNorm): the im2col × CSR forward against libtorch's dense
/// convolutions of the same masked network, BatchNorm folding, dead-channel removal, threads and the file.
/// </summary>
public class SparseConvNetTests
{
    /// <summary>A conv net with random masks of the given sparsity on every conv/linear weight and, with BatchNorm, random eval statistics and affine parameters.</summary>
    internal static (nn.Module<Tensor, Tensor> Model, Dictionary<string, Tensor> Masks) RandomNet(ModelSpec spec, long[] shape, double sparsity, int seed)
    {
        var model = ModelRegistry.Create(spec, shape, 10);
        Initializers.Apply(model, new InitSpec("normal", Math.Sqrt(2), 0.1), seed);
        var gen = new Generator((ulong)seed + 17);
        var state = Network.FullStateDict(model);
        var masks = new Dictionary<string, Tensor>();
        using (no_grad())
        {
            foreach (var (key, t) in state)
            {
                if (key.Contains(".bn.", StringComparison.Ordinal))
                {
                    if (key.EndsWith("running_var", StringComparison.Ordinal)) t.copy_(rand(t.shape, generator: gen).add(0.5));
                    else if (t.is_floating_point()) t.copy_(randn(t.shape, generator: gen).mul(0.3).add(key.EndsWith(".weight", StringComparison.Ordinal) ? 1 : 0));
                }
                else if (key.EndsWith(".weight", StringComparison.Ordinal))
                {
                    var m = rand(t.shape, generator: gen).ge(sparsity);
                    t.mul_(m);
                    masks[key] = m;
                }
            }
        }
        model.eval();
        return (model, masks);
    }

    internal static float[] Dense(nn.Module<Tensor, Tensor> model, Tensor x)
    {
        using var _ = no_grad();
        using var y = model.forward(x);
        return y.data<float>().ToArray();
    }

    internal static void AssertClose(float[] expected, float[] got, double tolerance)
    {
        Assert.Equal(expected.Length, got.Length);
        double scale = Math.Max(1, expected.Max(MathF.Abs)), worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - got[i]));
        Assert.True(worst / scale <= tolerance, $"largest difference {worst / scale:G3} (relative to {scale:G3})");
    }

    [Theory]
    [InlineData("vgg11-bn", "zeros", 0.9, 1)]
    [InlineData("vgg11-bn", "circular", 0.5, 3)]
    [InlineData("vgg16", "zeros", 0.99, 2)]
    [InlineData("vgg11", "zeros", 0.0, 1)]
    [InlineData("vcnn", "circular", 0.8, 4)]
    public void The_sparse_conv_net_computes_the_dense_masked_networks_logits(string name, string padding, double sparsity, int batch)
    {
        var spec = new ModelSpec(name, Depth: 3, Width: 12, Padding: padding, WidthMultiplier: name == "vcnn" ? 1 : 0.125);
        long[] shape = [3, 32, 32];
        var (model, masks) = RandomNet(spec, shape, sparsity, seed: batch);
        using var _ = model;
        var (sparse, report) = SparseExport.CompactConvNet(Network.FullStateDict(model), masks, name, shape, padding: padding);
        Assert.Equal(name.EndsWith("-bn", StringComparison.Ordinal), sparse.Convs.All(c => c.BatchNormFolded));
        Assert.Equal(sparsity >= 0.7, sparse.Convs.Any(c => c.Csr is not null)); // density ≤ 0.3 is stored as CSR
        if (name.StartsWith("vgg", StringComparison.Ordinal))
            Assert.Equal(4, sparse.Convs.Count(c => c.PoolBefore)); // five blocks, a max-pooling between each two

        using var x = randn([batch, 3, 32, 32], generator: new Generator(9));
        AssertClose(Dense(model, x), sparse.Forward(x.data<float>().ToArray(), batch), 1e-4);
        Assert.Equal(report.Sum(l => l.KeptWeights), masks.Values.Sum(m => m.count_nonzero().item<long>()));
    }

    [Theory]
    [InlineData(1, 32)]
    [InlineData(3, 28)] // output rows of 28: a masked last vector
    [InlineData(2, 20)]
    public void The_direct_convolution_gives_the_bits_of_the_im2col_product(int batch, int side)
    {
        var (model, masks) = RandomNet(new ModelSpec("vgg11-bn", WidthMultiplier: 0.25), [3, side, side], 0.9, batch);
        using var _ = model;
        var (sparse, _) = SparseExport.CompactConvNet(Network.FullStateDict(model), masks, "vgg11-bn", [3, side, side]);
        using var x = randn([batch, 3, side, side], generator: new Generator(3));
        var inputs = x.data<float>().ToArray();
        var direct = sparse.Forward(inputs, batch);
        Assert.Equal(sparse.Forward(inputs, batch, 0, direct: false), direct);
        AssertClose(Dense(model, x), direct, 1e-4);
    }

    [Fact]
    public void Thread_counts_change_no_bit_and_batch_samples_match_single_ones()
    {
        var (model, masks) = RandomNet(new ModelSpec("vgg11-bn", WidthMultiplier: 0.25), [3, 32, 32], 0.9, 5);
        using var _ = model;
        var (sparse, _) = SparseExport.CompactConvNet(Network.FullStateDict(model), masks, "vgg11-bn", [3, 32, 32]);
        using var x = randn([6, 3, 32, 32], generator: new Generator(2));
        var inputs = x.data<float>().ToArray();
        var one = sparse.Forward(inputs, 6, threads: 1);
        foreach (var t in new[] { 2, 3, 0 }) Assert.Equal(one, sparse.Forward(inputs, 6, threads: t));
        // A sample alone goes through the same sums as in the batch but for the classifier's batch-1 order: close, not equal.
        var first = sparse.Forward(inputs[..(3 * 32 * 32)], 1);
        AssertClose(one[..10], first, 1e-5);
    }

    /// <summary>
    /// vcnn 3 → 6 → 6 → 6 channels, no masks but these: conv 0 channel 2 has no incoming weight and a negative bias
    /// (ReLU outputs 0: removed); conv 1 reads nothing of conv 0's channel 4 (removed); conv 1's channel 5 has no
    /// incoming weight and bias 0.7 (constant 0.7: folded into conv 2 with circular padding, kept with zeros); conv 2's
    /// channel 1 has no incoming weight and bias 0.4 (folded into the classifier).
    /// </summary>
    [Theory]
    [InlineData("zeros", new[] { 2, 0, 1 }, 0)]
    [InlineData("circular", new[] { 2, 1, 1 }, 1)]
    public void Dead_channels_are_removed_and_constant_ones_folded_where_exact(string padding, int[] removed, int foldedIntoConv)
    {
        var model = ModelRegistry.Create(new ModelSpec("vcnn", Depth: 3, Width: 6, Padding: padding), [3, 8, 8], 4);
        using var _ = model;
        Initializers.Apply(model, new InitSpec("normal", 1.5, 0.3), 11);
        var state = Network.FullStateDict(model);
        var masks = state.Where(kv => kv.Key.EndsWith(".weight", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => ones_like(kv.Value, dtype: ScalarType.Bool));
        masks["layers.0.weight"][2] = false;
        masks["layers.2.weight"][.., 4] = false;
        masks["layers.2.weight"][5] = false;
        masks["layers.4.weight"][1] = false;
        using (no_grad())
        {
            state["layers.0.bias"][2] = tensor(-0.5f);
            state["layers.2.bias"][5] = tensor(0.7f);
            state["layers.4.bias"][1] = tensor(0.4f);
            foreach (var (k, m) in masks) state[k].mul_(m);
        }
        var (sparse, report) = SparseExport.CompactConvNet(state, masks, "vcnn", [3, 8, 8], padding: padding, denseAbove: 1);
        Assert.Equal(removed, report.Take(3).Select(l => l.UnitsRemoved));
        Assert.Equal([0, 1, 3, 5], sparse.Convs[0].KeptChannels);
        Assert.Equal(foldedIntoConv, report[2].BiasesFolded);
        Assert.Equal(1, report[3].BiasesFolded);
        model.eval();
        using var x = randn([5, 3, 8, 8], generator: new Generator(4));
        AssertClose(Dense(model, x), sparse.Forward(x.data<float>().ToArray(), 5), 1e-5);
    }

    [Fact]
    public void The_file_round_trips_and_one_loader_reads_both_families()
    {
        using var dir = new TempDir();
        var (model, masks) = RandomNet(new ModelSpec("vgg11-bn", WidthMultiplier: 0.125, Padding: "circular"), [1, 28, 28], 0.95, 7);
        using var _ = model;
        var (sparse, _) = SparseExport.CompactConvNet(Network.FullStateDict(model), masks, "vgg11-bn", [1, 28, 28], padding: "circular");
        sparse.Save(dir.File("c.sparse.safetensors"));
        var back = Assert.IsType<SparseConvNet>(SparseFile.Load(dir.File("c.sparse.safetensors")));
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(sparse.Architecture), System.Text.Json.JsonSerializer.Serialize(back.Architecture));
        using var x = randn([3, 1, 28, 28], generator: new Generator(1));
        var inputs = x.data<float>().ToArray();
        Assert.Equal(sparse.Forward(inputs, 3), back.Forward(inputs, 3));
        Assert.Contains("conv net, not an MLP", Assert.Throws<InitPruneException>(() => SparseModel.Load(dir.File("c.sparse.safetensors"))).Message);

        var mlp = ModelRegistry.Create(new ModelSpec("mlp", Widths: [5]), 4, 2);
        using (mlp)
        {
            var (m, _) = SparseExport.Compact(Network.StateDict(mlp), null, "mlp");
            m.Save(dir.File("m.sparse.safetensors"));
        }
        Assert.IsType<SparseModel>(SparseFile.Load(dir.File("m.sparse.safetensors")));
    }

    [Fact]
    public void Conv_export_refuses_weights_that_do_not_fit_in_one_line()
    {
        var (model, masks) = RandomNet(new ModelSpec("vgg11-bn", WidthMultiplier: 0.125), [3, 32, 32], 0.5, 1);
        using var _ = model;
        var state = Network.FullStateDict(model);
        InitPruneException Refuse(string name, long[]? shape) =>
            Assert.Throws<InitPruneException>(() => SparseExport.CompactConvNet(state, masks, name, shape!));
        Assert.Contains("pass --model vgg11-bn", Refuse("vgg11", [3, 32, 32]).Message);
        Assert.Contains("not part of a vcnn", Refuse("vcnn", [3, 32, 32]).Message);
        Assert.Contains("--input-shape", Refuse("vgg11-bn", null).Message);
        Assert.Contains("3,H,W", Refuse("vgg11-bn", [1, 28, 28]).Message);
        Assert.Contains("positive integers", Assert.Throws<InitPruneException>(() => SparseExport.ParseShape("3,32,-1")).Message);
        Assert.Equal([3L, 32, 32], SparseExport.ParseShape("3x32x32"));
    }
}
