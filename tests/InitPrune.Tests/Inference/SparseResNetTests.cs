using InitPrune.Engine;
using InitPrune.Inference;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using TorchSharp;
using static TorchSharp.torch;
using static InitPrune.Tests.Inference.SparseConvNetTests;

namespace InitPrune.Tests.Inference;

/// <summary>
/// Sparse CIFAR ResNets (shortcut A and B, Stable or not, zero or circular padding): the sparse forward against
/// libtorch's dense masked network in eval mode, block-internal dead-channel removal, the file, PyTorch's rebuild.
/// </summary>
public class SparseResNetTests
{
    /// <summary>A ResNet (or VGG) with random masks of the given sparsity on every conv/linear weight, random BatchNorm eval statistics and affine parameters, in eval mode.</summary>
    static (nn.Module<Tensor, Tensor> Model, Dictionary<string, Tensor> Masks) RandomNet(ModelSpec spec, long[] shape, double sparsity, int seed)
    {
        var model = ModelRegistry.Create(spec, shape, 10);
        Initializers.Apply(model, new InitSpec("normal", Math.Sqrt(2), 0.1), seed);
        var gen = new Generator((ulong)seed + 17);
        var batchNorms = Network.MaskedModules(model).Where(m => m.Module is MaskedBatchNorm2d).Select(m => m.Name).ToHashSet();
        var prunable = Network.Prunable(model).Select(t => t.Name).ToHashSet();
        var masks = new Dictionary<string, Tensor>();
        using (no_grad())
        {
            foreach (var (key, t) in Network.FullStateDict(model))
            {
                if (batchNorms.Contains(key[..key.LastIndexOf('.')]))
                {
                    if (key.EndsWith("running_var", StringComparison.Ordinal)) t.copy_(rand(t.shape, generator: gen).add(0.5));
                    else if (t.is_floating_point()) t.copy_(randn(t.shape, generator: gen).mul(0.3).add(key.EndsWith(".weight", StringComparison.Ordinal) ? 1 : 0));
                }
                else if (prunable.Contains(key))
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

    [Theory]
    [InlineData(ShortcutKind.A, false, "zeros", 0.0, 2)]
    [InlineData(ShortcutKind.B, false, "zeros", 0.0, 1)]
    [InlineData(ShortcutKind.A, true, "zeros", 0.9, 1)]
    [InlineData(ShortcutKind.B, true, "circular", 0.9, 3)]
    [InlineData(ShortcutKind.A, false, "circular", 0.99, 2)]
    [InlineData(ShortcutKind.B, false, "zeros", 0.99, 2)]
    [InlineData(ShortcutKind.A, true, "circular", 0.5, 1)]
    [InlineData(ShortcutKind.B, true, "zeros", 0.99, 1)]
    public void The_sparse_resnet_computes_the_dense_masked_networks_logits(ShortcutKind shortcut, bool stable, string padding, double sparsity, int batch)
    {
        var spec = new ModelSpec("resnet20", Padding: padding, WidthMultiplier: 0.5, Stable: stable, Shortcut: shortcut);
        long[] shape = [3, 16, 16];
        var (model, masks) = RandomNet(spec, shape, sparsity, seed: batch + (int)(sparsity * 100));
        using var _ = model;
        var (sparse, report) = SparseExport.CompactResNet(Network.FullStateDict(model), masks, "resnet20", shape, stable, shortcut, padding: padding);
        Assert.Equal(9, sparse.Blocks.Count);
        Assert.Equal(stable ? 1 / 3.0 : 1.0, sparse.BranchScale, 12);
        Assert.All(sparse.AllConvs, c => Assert.True(c.BatchNormFolded));
        Assert.Equal([3, 6], Enumerable.Range(0, 9).Where(i => sparse.Blocks[i].Shortcut != "identity"));
        Assert.All(sparse.Blocks.Where(b => b.Shortcut != "identity"), b => Assert.Equal(shortcut == ShortcutKind.A ? "a" : "b", b.Shortcut));
        Assert.Equal(sparsity >= 0.9, sparse.Blocks.Any(b => b.Conv1.Csr is not null)); // density ≤ 0.3 is stored as CSR
        Assert.Equal(report.Sum(l => l.KeptWeights), masks.Values.Sum(m => m.count_nonzero().item<long>()));

        using var x = randn([batch, .. shape], generator: new Generator(9));
        var inputs = x.data<float>().ToArray();
        var direct = sparse.Forward(inputs, batch);
        AssertClose(Dense(model, x), direct, 1e-4);
        Assert.Equal(sparse.Forward(inputs, batch, 0, direct: false), direct);
        Assert.Equal(sparse.Forward(inputs, batch, threads: 1), direct);
    }

    /// <summary>
    /// resnet20 at width 0.25 (4, 8, 16 channels), no masks but these: the stem's channel 0 has no incoming weight
    /// (the residual stream keeps it); in block 0, conv1's channel 1 has no incoming weight and bn1 shift −0.5 (ReLU
    /// gives 0: removed), conv2 reads nothing of channel 2 (removed), channel 3 has no incoming weight and shift 0.7
    /// (constant 0.7: folded into conv2 with circular padding, kept with zeros).
    /// </summary>
    [Theory]
    [InlineData("zeros", 2, 0, new[] { 0, 3 })]
    [InlineData("circular", 3, 1, new[] { 0 })]
    public void Dead_block_channels_are_removed_and_constant_ones_folded_where_exact(string padding, int removed, int folded, int[] kept)
    {
        var model = ModelRegistry.Create(new ModelSpec("resnet20", Padding: padding, WidthMultiplier: 0.25, Stable: true), [3, 8, 8], 4);
        using var _ = model;
        Initializers.Apply(model, new InitSpec("normal", 1.5, 0.3), 11);
        var state = Network.FullStateDict(model);
        var masks = Network.Prunable(model).ToDictionary(t => t.Name, t => ones_like(state[t.Name], dtype: ScalarType.Bool));
        masks["conv.weight"][0] = false;
        masks["blocks.0.conv1.weight"][1] = false;
        masks["blocks.0.conv1.weight"][3] = false;
        masks["blocks.0.conv2.weight"][.., 2] = false;
        using (no_grad())
        {
            state["blocks.0.bn1.bias"][1] = tensor(-0.5f);
            state["blocks.0.bn1.bias"][3] = tensor(0.7f);
            foreach (var (k, m) in masks) state[k].mul_(m);
        }
        model.eval();
        var (sparse, report) = SparseExport.CompactResNet(state, masks, "resnet20", [3, 8, 8], stable: true, padding: padding, denseAbove: 1);
        Assert.Equal(removed, report.Single(l => l.Name == "blocks.0.conv1").UnitsRemoved);
        Assert.Equal(folded, report.Single(l => l.Name == "blocks.0.conv2").BiasesFolded);
        Assert.Equal(kept, sparse.Blocks[0].Conv1.KeptChannels);
        Assert.Equal(kept.Length, sparse.Blocks[0].Conv2.InChannels);
        Assert.Equal(4, sparse.Stem.OutChannels);
        Assert.Equal(removed, report.Sum(l => l.UnitsRemoved));
        using var x = randn([5, 3, 8, 8], generator: new Generator(4));
        AssertClose(Dense(model, x), sparse.Forward(x.data<float>().ToArray(), 5), 1e-5);
    }

    /// <summary>
    /// resnet20 at width 0.25 (streams of 4, 8, 16 channels), no masks but these: the last stream's channel 6 is read
    /// by nothing (blocks 7 and 8's conv1, the classifier); stream 1's channel 2 by no conv1 (blocks 4–6) nor
    /// projection, and under option A it lands on that dead channel 6 (2 + 4 zero channels before); the stem's channel
    /// 1 by no conv1 (blocks 0–3) nor projection, but under option A it lands on stream 1's channel 3, which is read.
    /// So option B removes one channel of every stream, option A of streams 1 and 2 only.
    /// </summary>
    [Theory]
    [InlineData(ShortcutKind.B, 3)]
    [InlineData(ShortcutKind.A, 4)]
    public void Unread_channels_of_the_residual_streams_are_removed(ShortcutKind shortcut, int stemChannels)
    {
        using var dir = new TempDir();
        var model = ModelRegistry.Create(new ModelSpec("resnet20", WidthMultiplier: 0.25, Shortcut: shortcut), [3, 8, 8], 4);
        using var _ = model;
        Initializers.Apply(model, new InitSpec("normal", 1.5, 0.3), 5);
        var state = Network.FullStateDict(model);
        var masks = Network.Prunable(model).ToDictionary(t => t.Name, t => ones_like(state[t.Name], dtype: ScalarType.Bool));
        foreach (var b in new[] { 7, 8 }) masks[$"blocks.{b}.conv1.weight"][.., 6] = false;
        masks["fc.weight"][.., 6] = false;
        foreach (var b in new[] { 4, 5, 6 }) masks[$"blocks.{b}.conv1.weight"][.., 2] = false;
        foreach (var b in new[] { 0, 1, 2, 3 }) masks[$"blocks.{b}.conv1.weight"][.., 1] = false;
        if (shortcut == ShortcutKind.B)
        {
            masks["blocks.6.shortcut.0.weight"][.., 2] = false;
            masks["blocks.3.shortcut.0.weight"][.., 1] = false;
        }
        using (no_grad())
            foreach (var (k, m) in masks) state[k].mul_(m);
        model.eval();
        var (sparse, report) = SparseExport.CompactResNet(state, masks, "resnet20", [3, 8, 8], stable: false, shortcut, denseAbove: 1);
        Assert.Equal(stemChannels, sparse.Stem.OutChannels);
        Assert.All(sparse.Blocks.Take(3), b => Assert.Equal(stemChannels, b.Conv2.OutChannels));
        Assert.All(sparse.Blocks.Skip(3).Take(3), b => Assert.Equal([0, 1, 3, 4, 5, 6, 7], b.Conv2.KeptChannels));
        Assert.All(sparse.Blocks.Skip(6), b => Assert.Equal([.. Enumerable.Range(0, 16).Where(c => c != 6)], b.Conv2.KeptChannels));
        Assert.Equal(15, sparse.Classifier.InFeatures);
        Assert.Equal(1, report.Single(l => l.Name == "blocks.8.conv2").UnitsRemoved);
        Assert.Equal(4 - stemChannels, report.Single(l => l.Name == "conv").UnitsRemoved);
        var (kept, dense) = sparse.MultiplyAdds();
        // By hand: stem 4·3·9·64, six 4·4·9·64, conv1 8·4·9·16, five 8·8·9·16, conv1 16·8·9·4, five 16·16·9·4, fc 4·16, and B's 8·4·16 + 16·8·4.
        Assert.Equal(shortcut == ShortcutKind.B ? 164_672 : 163_648, dense);
        Assert.True(kept < dense);

        using var x = randn([3, 3, 8, 8], generator: new Generator(8));
        var inputs = x.data<float>().ToArray();
        var logits = sparse.Forward(inputs, 3);
        AssertClose(Dense(model, x), logits, 1e-5);
        sparse.Save(dir.File("m.sparse.safetensors"));
        Assert.Equal(logits, SparseFile.Load(dir.File("m.sparse.safetensors")).Forward(inputs, 3, 1));
        Safetensors.Save(dir.File("inputs.safetensors"), new Dictionary<string, Tensor> { ["inputs"] = x });
        using (var outputs = tensor(logits, [3, 4]))
            Safetensors.Save(dir.File("outputs.safetensors"), new Dictionary<string, Tensor> { ["outputs"] = outputs });
        Assert.Contains("\"layout_errors\": []", PyTorchScript.Run("sparse_model.py", dir.File("m.sparse.safetensors"), dir.File("inputs.safetensors"), dir.File("outputs.safetensors")));
    }

    [Theory]
    [InlineData(ShortcutKind.A, "circular")]
    [InlineData(ShortcutKind.B, "zeros")]
    public void The_file_round_trips_and_pytorch_rebuilds_it(ShortcutKind shortcut, string padding)
    {
        using var dir = new TempDir();
        var (model, masks) = RandomNet(new ModelSpec("resnet20", Padding: padding, WidthMultiplier: 0.5, Stable: true, Shortcut: shortcut), [3, 12, 12], 0.9, 7);
        using var _ = model;
        var (sparse, _) = SparseExport.CompactResNet(Network.FullStateDict(model), masks, "resnet20", [3, 12, 12], stable: true, padding: padding);
        sparse.Save(dir.File("m.sparse.safetensors"));
        var back = Assert.IsType<SparseResNet>(SparseFile.Load(dir.File("m.sparse.safetensors")));
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(sparse.Architecture), System.Text.Json.JsonSerializer.Serialize(back.Architecture));
        using var x = randn([4, 3, 12, 12], generator: new Generator(1));
        var inputs = x.data<float>().ToArray();
        var logits = back.Forward(inputs, 4);
        Assert.Equal(sparse.Forward(inputs, 4), logits);
        AssertClose(Dense(model, x), logits, 1e-4);
        Assert.Contains("conv net, not an MLP", Assert.Throws<InitPruneException>(() => SparseModel.Load(dir.File("m.sparse.safetensors"))).Message);

        Safetensors.Save(dir.File("inputs.safetensors"), new Dictionary<string, Tensor> { ["inputs"] = x });
        using (var outputs = tensor(logits, [4, 10]))
            Safetensors.Save(dir.File("outputs.safetensors"), new Dictionary<string, Tensor> { ["outputs"] = outputs });
        var line = PyTorchScript.Run("sparse_model.py", dir.File("m.sparse.safetensors"), dir.File("inputs.safetensors"), dir.File("outputs.safetensors"));
        Assert.Contains("\"layout_errors\": []", line);
        Assert.DoesNotContain("\"csr_layers\": 0", line);
    }

    [Fact]
    public void Export_refuses_weights_that_do_not_fit_in_one_line()
    {
        var (model, masks) = RandomNet(new ModelSpec("resnet20", WidthMultiplier: 0.25), [3, 8, 8], 0.5, 1);
        using var _ = model;
        var state = Network.FullStateDict(model);
        InitPruneException Refuse(string name, long[]? shape, ShortcutKind? shortcut = null, bool stable = false) =>
            Assert.Throws<InitPruneException>(() => SparseExport.CompactResNet(state, masks, name, shape!, stable, shortcut));
        Assert.Contains("pass --model resnet20", Refuse("resnet32", [3, 8, 8]).Message);
        Assert.Contains("pass --shortcut b", Refuse("resnet20", [3, 8, 8], ShortcutKind.A).Message);
        Assert.Contains("--input-shape", Refuse("resnet20", null).Message);
        Assert.Contains("3,H,W", Refuse("resnet20", [1, 8, 8]).Message);
        Assert.Contains("use a (zero-padded identity) or b", Assert.Throws<InitPruneException>(() => SparseExport.ParseShortcut("c")).Message);
        Assert.Equal(ShortcutKind.B, SparseExport.ParseShortcut(" B"));
        Assert.Contains("not part of a vgg11", Assert.Throws<InitPruneException>(() => SparseExport.CompactConvNet(state, masks, "vgg11", [3, 8, 8])).Message);

        using var dir = new TempDir();
        var (vgg, vggMasks) = RandomNet(new ModelSpec("vgg11", WidthMultiplier: 0.125), [3, 32, 32], 0.5, 1);
        using (vgg)
        {
            Assert.Contains("not part of a resnet20", Assert.Throws<InitPruneException>(() => SparseExport.CompactResNet(Network.FullStateDict(vgg), vggMasks, "resnet20", [3, 32, 32])).Message);
            Safetensors.Save(dir.File("vgg.safetensors"), Network.FullStateDict(vgg));
        }
        Assert.Contains("describe ResNets", Assert.Throws<InitPruneException>(() =>
            SparseExport.Export(new SparseExportRequest(dir.File("vgg.safetensors"), Model: "vgg11", InputShape: [3, 32, 32], Stable: true))).Message);
    }

    /// <summary>The CLI: export with --stable and --shortcut, a wrong --shortcut in one line, and infer on Fashion-MNIST with the dense network's predictions.</summary>
    [Fact]
    public void Cli_export_and_infer_run_a_resnet()
    {
        const string folder = "/usr/share/datasets/fashion-mnist";
        if (!Directory.Exists(folder))
            Assert.Fail($"{folder} is missing: install the real Fashion-MNIST with 'sudo apt-get install dataset-fashion-mnist'");
        using var dir = new TempDir();
        var (model, masks) = RandomNet(new ModelSpec("resnet20", WidthMultiplier: 0.25, Stable: true, Shortcut: ShortcutKind.A), [1, 28, 28], 0.9, 3);
        using var _ = model;
        Safetensors.Save(dir.File("w.safetensors"), Network.FullStateDict(model));
        Safetensors.Save(dir.File("mask.safetensors"), masks);
        var bad = CliRunner.Run("export", "--weights", dir.File("w.safetensors"), "--mask", dir.File("mask.safetensors"), "--model", "resnet20", "--shortcut", "b",
            "--input-shape", "1,28,28");
        Assert.Contains("--shortcut a", CliRunner.AssertOneLineError(bad));
        var export = CliRunner.Run("export", "--weights", dir.File("w.safetensors"), "--mask", dir.File("mask.safetensors"), "--model", "resnet20", "--stable",
            "--shortcut", "a", "--input-shape", "1,28,28", "--out", dir.File("m.sparse.safetensors"), "--json");
        Assert.True(export.ExitCode == 0, export.Stderr);
        Assert.True(export.Json.GetProperty("bytes").GetInt64() < export.Json.GetProperty("dense_bytes").GetInt64());

        var infer = CliRunner.Run("infer", "--model", dir.File("m.sparse.safetensors"), "--dataset", "fashion-mnist", "--data-dir", folder, "--json", "--out", dir.Sub("infer"));
        Assert.True(infer.ExitCode == 0, infer.Stderr);
        using var data = InitPrune.Data.DatasetRegistry.Load("fashion-mnist", folder);
        long[] dense;
        float[] gaps;
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var logits = model.forward(data.Test.Inputs);
            var (values, indices) = logits.topk(2, 1);
            dense = indices[.., 0].contiguous().data<long>().ToArray();
            gaps = (values[.., 0] - values[.., 1]).div(logits.abs().max().clamp_min(1)).contiguous().data<float>().ToArray();
        }
        Assert.True(gaps.Count(g => g > 1e-4) > 9900, "nearly every sample has a clear dense prediction");
        using var predictions = Safetensors.Load(Path.Combine(dir.Path, "infer", "predictions.safetensors"));
        var got = predictions["predictions"].data<long>().ToArray();
        // An untrained network has near-ties; a sample counts where the dense top two logits differ by more than float rounding could move them.
        var differing = Enumerable.Range(0, dense.Length).Where(i => dense[i] != got[i] && gaps[i] > 1e-4).ToList();
        Assert.True(differing.Count == 0, $"{differing.Count} test samples predicted differently, first {string.Join(",", differing.Take(5))}");
    }
}
