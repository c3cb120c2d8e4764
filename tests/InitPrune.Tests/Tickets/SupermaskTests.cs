using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tickets;
using static TorchSharp.torch;

namespace InitPrune.Tests.Tickets;

public class SupermaskTests
{
    [Theory]
    [InlineData(0.1, 100, 10)]
    [InlineData(0.002, 100, 1)] // the reference prunes int(0.998·100) = 99: one entry stays
    [InlineData(0.01, 4, 1)]
    [InlineData(0.25, 12, 3)]
    [InlineData(1.0, 7, 7)]
    [InlineData(0.5, 3, 2)]
    public void Keep_count_is_the_references_n_minus_floor_of_the_pruned_share(double rho, long n, long kept) =>
        Assert.Equal(kept, Supermask.KeepCount(rho, n));

    [Theory]
    [InlineData(PruneScope.LayerWise, BiasRanking.Separate)]
    [InlineData(PruneScope.LayerWise, BiasRanking.Joint)]
    [InlineData(PruneScope.Global, BiasRanking.Separate)]
    [InlineData(PruneScope.Global, BiasRanking.Joint)]
    // float64 takes the kthvalue path (the one other devices use), float32 the managed selection.
    [InlineData(PruneScope.LayerWise, BiasRanking.Separate, ScalarType.Float64)]
    [InlineData(PruneScope.Global, BiasRanking.Joint, ScalarType.Float64)]
    public void Each_group_keeps_exactly_its_count_and_ties_go_to_the_earlier_entry(PruneScope scope, BiasRanking biases, ScalarType dtype = ScalarType.Float32)
    {
        using var model = TestNets.Mlp(5, [7, 6], 3);
        var tensors = Network.Prunable(model, includeBiases: true);
        var groups = Supermask.Groups(tensors, scope, biases);
        // Scores rounded to one decimal (many ties) with random signs: the ranking is by |s|.
        using var g = new TorchSharp.torch.Generator(11);
        var scores = tensors.ToDictionary(t => t.Name, t => randn(t.Value.shape, generator: g).mul(3).round().div(10).to(dtype));
        const double rho = 0.3;
        using var masks = Supermask.Select(scores, [.. groups], rho);

        Assert.Equal(tensors.Select(t => t.Name), masks.Keys);
        foreach (var group in groups)
        {
            // Independent truth: a stable LINQ sort of (|s|, position) over the group in order.
            var entries = group.SelectMany(name => TestNets.Values(scores[name]).Select((v, i) => (name, i, Magnitude: Math.Abs(v)))).ToList();
            long k = entries.Count - (long)Math.Floor((1 - rho) * entries.Count);
            var kept = entries.OrderByDescending(e => e.Magnitude).Take((int)k).Select(e => (e.name, e.i)).ToHashSet();
            long count = 0;
            foreach (var name in group)
            {
                var ours = TestNets.Values(masks[name].to(ScalarType.Float32));
                for (int i = 0; i < ours.Length; i++) Assert.Equal(kept.Contains((name, i)) ? 1f : 0f, ours[i]);
                count += (long)ours.Sum();
            }
            Assert.Equal(k, count);
        }
        foreach (var s in scores.Values) s.Dispose();
    }

    [Fact]
    public void Groups_follow_scope_and_bias_ranking()
    {
        using var model = TestNets.Mlp(2, [3], 2);
        var tensors = Network.Prunable(model, includeBiases: true);
        Assert.Equal([["layers.0.weight"], ["layers.0.bias"], ["layers.2.weight"], ["layers.2.bias"]], Supermask.Groups(tensors, PruneScope.LayerWise, BiasRanking.Separate));
        Assert.Equal([["layers.0.weight", "layers.0.bias"], ["layers.2.weight", "layers.2.bias"]], Supermask.Groups(tensors, PruneScope.LayerWise, BiasRanking.Joint));
        Assert.Equal([["layers.0.weight", "layers.2.weight"], ["layers.0.bias", "layers.2.bias"]], Supermask.Groups(tensors, PruneScope.Global, BiasRanking.Separate));
        Assert.Equal([["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]], Supermask.Groups(tensors, PruneScope.Global, BiasRanking.Joint));
    }

    [Fact]
    public void All_equal_scores_keep_the_first_entries_in_row_major_order()
    {
        using var s = full(3, 4, -0.5f);
        using var masks64 = Supermask.Select(new Dictionary<string, Tensor> { ["w"] = s.to(ScalarType.Float64) }, [["w"]], 0.25);
        Assert.Equal([1f, 1f, 1f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f], TestNets.Values(masks64["w"].to(ScalarType.Float32)));
        using var masks = Supermask.Select(new Dictionary<string, Tensor> { ["w"] = s }, [["w"]], 0.25);
        Assert.Equal([1f, 1f, 1f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f], TestNets.Values(masks["w"].to(ScalarType.Float32)));
    }

    [Fact]
    public void Scores_holding_nan_are_a_divergence_not_a_wrong_mask()
    {
        using var s = tensor(new[] { 0.3f, float.NaN, 0.1f, 0.2f });
        var e = Assert.Throws<DivergenceException>(() => Supermask.Select(new Dictionary<string, Tensor> { ["w"] = s }, [["w"]], 0.5));
        Assert.Contains("NaN", e.Message);
    }
}
