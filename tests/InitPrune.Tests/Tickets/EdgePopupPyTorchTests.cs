using System.Globalization;
using InitPrune.Data;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Data;
using InitPrune.Tickets;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Tickets;

/// <summary>
/// Edge-popup steps taken here from exported weights, scores and batches equal the steps PyTorch takes from the same
/// files by the same definition (tests/pytorch/edge_popup.py, Debian's python3-torch): identical masks, scores
/// within float tolerance.
/// </summary>
public class EdgePopupPyTorchTests
{

    [Fact]
    public async Task Steps_match_pytorch_for_every_scope_and_bias_ranking()
    {
        using var temp = new TempDir();
        (PruneScope, BiasRanking, double)[] cases =
            [(PruneScope.LayerWise, BiasRanking.Separate, 0.3), (PruneScope.LayerWise, BiasRanking.Joint, 0.5), (PruneScope.Global, BiasRanking.Separate, 0.2), (PruneScope.Global, BiasRanking.Joint, 0.1)];
        var folders = cases.Select((c, i) => Export(temp.Sub($"case{i}"), c.Item1, c.Item2, c.Item3, seed: i)).ToList();

        var stdout = await PyTorchScript.RunAsync("edge_popup.py", [.. folders]);
        Assert.Equal(cases.Length, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.Contains("\"steps\": 4") && l.Contains("\"differing_mask_entries\": 0")));
    }

    /// <summary>Writes weights, initial scores, four batches, the recipe and InitPrune's scores and mask after four steps.</summary>
    static string Export(string folder, PruneScope scope, BiasRanking biases, double rho, int seed)
    {
        string F(string name) => Path.Combine(folder, name);
        using var model = TestNets.Mlp(6, [20, 12], 4, seed: seed, sigmaB: 0.3);
        var config = new EdgePopupConfig(Sparsity: 1 - rho, Scope: scope, Biases: biases);
        using var popup = new EdgePopup(model, config, seed: 9 + seed);
        popup.KeptFraction = rho;
        Safetensors.Save(F("weights.safetensors"), Network.StateDict(model));
        Safetensors.Save(F("scores.safetensors"), popup.Scores.ToDictionary(kv => kv.Key, kv => (Tensor)kv.Value));
        using var gen = new Generator(2);
        var batches = new Dictionary<string, Tensor>();
        for (int b = 0; b < 4; b++)
        {
            batches[$"inputs_{b}"] = randn([16, 6], generator: gen);
            batches[$"labels_{b}"] = randint(0, 4, [16], generator: gen);
        }
        Safetensors.Save(F("batches.safetensors"), batches);
        File.WriteAllText(F("config.json"), string.Create(CultureInfo.InvariantCulture,
            $$"""{"kept_fraction": {{rho:R}}, "lr": {{config.LearningRate:R}}, "momentum": {{config.Momentum:R}}, "weight_decay": {{config.WeightDecay:R}}, "scope": "{{(scope == PruneScope.Global ? "global" : "layer-wise")}}", "biases": "{{(biases == BiasRanking.Joint ? "joint" : "separate")}}"}"""));
        for (int b = 0; b < 4; b++) popup.Step(batches[$"inputs_{b}"], batches[$"labels_{b}"], TaskKind.Classification, config.LearningRate);
        Safetensors.Save(F("result_scores.safetensors"), popup.Scores.ToDictionary(kv => kv.Key, kv => (Tensor)kv.Value));
        using (var mask = popup.Mask()) mask.Save(F("result_mask.safetensors"));
        foreach (var t in batches.Values) t.Dispose();
        return folder;
    }
}
