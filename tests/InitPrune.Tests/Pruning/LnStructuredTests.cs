using InitPrune.Cli.Commands;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using static TorchSharp.torch;

namespace InitPrune.Tests.Pruning;

/// <summary>
/// ln-structured against torch.nn.utils.prune.ln_structured(module, 'weight', amount, n, dim=0) in Debian's PyTorch
/// (tests/pytorch/structured.py) on the same weights file, and its invariants: whole slices, exact slice counts
/// (Python's round, half to even), the output layer dense.
/// </summary>
public class LnStructuredTests
{

    static nn.Module<Tensor, Tensor> Model(string kind)
    {
        var model = kind == "conv"
            ? ModelRegistry.Create(new ModelSpec("vcnn", Widths: [6, 10, 7]), [2, 8, 8], 3)
            : ModelRegistry.Create(new ModelSpec("mlp", Widths: [6, 10, 7]), 10, 4);
        Initializers.Apply(model, new InitSpec("normal", Math.Sqrt(2), 0.1), 5);
        return model;
    }

    static string Torch(params string[] args) => PyTorchScript.Run("structured.py", args);

    /// <summary>Kept flag of each slice along dim 0, asserting every slice is kept or pruned whole.</summary>
    static bool[] Slices(Tensor mask)
    {
        var rows = mask.reshape(mask.shape[0], -1);
        var all = rows.all(1).data<bool>().ToArray();
        var any = rows.any(1).data<bool>().ToArray();
        Assert.Equal(all, any);
        return all;
    }

    [Theory]
    [InlineData("conv", 1, 0.25)]
    [InlineData("conv", 2, 0.25)]
    [InlineData("conv", 2, 0.5)]
    [InlineData("mlp", 1, 0.25)]
    [InlineData("mlp", 2, 0.5)]
    [InlineData("mlp", 2, 0.7)]
    public void Masks_equal_torch_ln_structured_and_keep_whole_slices(string kind, int n, double amount)
    {
        using var temp = new TempDir();
        using var model = Model(kind);
        var weights = Network.Prunable(model).Select(t => t.Name).ToList();
        Safetensors.Save(temp.File("weights.safetensors"), Network.StateDict(model));
        var spec = new PruneSpec("ln-structured", amount, PruneScope.LayerWise, Options: MethodOptions.Default.With(LnStructuredMethod.Norm, n));
        using var result = Pruner.Prune(model, spec, new ScoringContext(null, null, TaskKind.Classification, 0));
        result.Mask.Save(temp.Path, "mask", SaveFormat.Safetensors);

        Torch([temp.Path, n.ToString(System.Globalization.CultureInfo.InvariantCulture), amount.ToString("R", System.Globalization.CultureInfo.InvariantCulture), .. weights[..^1]]);

        foreach (var name in weights)
        {
            var slices = Slices(result.Mask.Tensors[name]);
            // Python's round(amount·C): 0.25·6 = 1.5 → 2 and 0.5·7 = 3.5 → 4 pruned, 0.25·10 = 2.5 → 2.
            long expected = name == weights[^1] ? slices.Length : slices.Length - (long)Math.Round(amount * slices.Length, MidpointRounding.ToEven);
            Assert.Equal(expected, slices.Count(k => k));
        }
        Assert.True(TestNets.Values(result.Mask.Tensors[weights[^1]]).All(v => v == 1), "the output layer stays dense");
    }

    [Fact]
    public void Pruned_slices_are_those_of_smallest_norm_and_a_pruned_bias_follows_its_units()
    {
        using var model = Model("mlp");
        var w = Network.StateDict(model)["layers.2.weight"].clone();
        var spec = new PruneSpec("ln-structured", 0.5, PruneScope.LayerWise, IncludeBiases: true, Options: MethodOptions.Default.With(LnStructuredMethod.Norm, 1));
        using var result = Pruner.Prune(model, spec, new ScoringContext(null, null, TaskKind.Classification, 0));
        var norms = w.abs().sum(1).data<float>().ToArray();
        var kept = Slices(result.Mask.Tensors["layers.2.weight"]);
        Assert.True(norms.Where((_, i) => kept[i]).Min() > norms.Where((_, i) => !kept[i]).Max());
        Assert.Equal(kept, result.Mask.Tensors["layers.2.bias"].data<bool>().ToArray());
    }

    [Fact]
    public void Python_round_counts_half_to_even() =>
        Assert.Equal([2L, 2L, 4L, 3L, 0L], [LnStructuredMethod.PruneCount(0.25, 6), LnStructuredMethod.PruneCount(0.25, 10), LnStructuredMethod.PruneCount(0.5, 7),
            LnStructuredMethod.PruneCount(0.3, 10), LnStructuredMethod.PruneCount(0.1, 4)]);

    [Fact]
    public void The_command_line_mask_equals_torch_and_global_or_reference_counts_are_refused()
    {
        using var temp = new TempDir();
        string[] args = ["prune", "--dataset", "ellipse", "--model", "mlp", "--depth", "2", "--width", "6", "--method", "ln-structured", "--sparsity", "0.25"];
        var ok = CliRunner.Run([.. args, "--scope", "layer-wise", "--norm", "1", "--out", temp.Path, "--json"]);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        var kept = ok.Json.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("kept").GetInt64()).ToArray();
        Assert.Equal([4 * 2, 4 * 6, 4 * 6], kept);
        Torch(temp.Path, "1", "0.25", "layers.0.weight", "layers.2.weight");

        Assert.Contains("--scope layer-wise", CliRunner.AssertOneLineError(CliRunner.Run([.. args, "--out", temp.File("g")])));
        Assert.Contains("keep_rule reference", CliRunner.AssertOneLineError(CliRunner.Run([.. args, "--scope", "layer-wise", "--keep-rule", "reference", "--out", temp.File("r")])));
        Assert.Contains("[1, 2]", CliRunner.AssertOneLineError(CliRunner.Run([.. args, "--scope", "layer-wise", "--norm", "3", "--out", temp.File("n")])));
    }

    [Fact]
    public void A_spec_gives_the_command_line_spec_and_refuses_global_scope()
    {
        var command = new PruneCommand();
        var parsed = command.Command.Parse("--dataset ellipse --model mlp --method ln-structured --sparsity 0.5 --scope layer-wise --norm 1".Split(' '));
        Assert.Empty(parsed.Errors);
        var cli = command.Read(parsed);

        using var dir = new TempDir();
        var path = dir.File("s.yaml");
        File.WriteAllText(path, "name: s\ndata: {name: ellipse}\nmodel: {name: mlp}\nprune: {method: ln-structured, sparsity: 0.5, scope: layer-wise, norm: 1}\ntrain: {epochs: 0}\n");
        var config = SpecLoader.Load(path, "full", null).Entries.Single().Config;
        Assert.Equal(cli.Prune, config.ToPruneSpec());
        Assert.Equal(1, config.ToPruneSpec().Options!.Integer(LnStructuredMethod.Norm));

        File.WriteAllText(path, "name: s\ndata: {name: ellipse}\nmodel: {name: mlp}\nprune: {method: ln-structured, sparsity: 0.5}\ntrain: {epochs: 0}\n");
        Assert.Contains("layer-wise", Assert.Throws<InitPruneException>(() => SpecLoader.Load(path, "full", null)).Message);
    }
}
