using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tickets;
using static TorchSharp.torch;

namespace InitPrune.Tests.Tickets;

/// <summary>Edge-popup as registry methods: the spec's options become the library's configuration, and a search resumes bit for bit.</summary>
public class EdgePopupMethodTests
{
    [Fact]
    public void Both_methods_are_registered_trainers_with_the_declared_options()
    {
        foreach (var name in new[] { "edge-popup", "edge-popup-scaled" })
        {
            var m = PrunerRegistry.Get(name);
            Assert.True(m.Trains);
            Assert.Null(m.Create);
            Assert.Equal(["popup_epochs", "anneal_epochs", "bias_ranking", "popup_lr", "popup_batch_size", "popup_momentum", "popup_weight_decay"], m.Options.Select(p => p.Key));
        }
        var e = Assert.Throws<InitPruneException>(() => PrunerRegistry.Create("edge-popup"));
        Assert.Contains("trains", e.Message);
    }

    [Fact]
    public void A_spec_maps_to_the_papers_configuration_and_its_options()
    {
        var defaults = EdgePopupMethod.Config(new PruneSpec("edge-popup", 0.99, PruneScope.LayerWise));
        Assert.Equal(new EdgePopupConfig(0.99, 10, 0, false, PruneScope.LayerWise, BiasRanking.Separate, 32, 0.1, 0.9, 5e-4), defaults);
        Assert.Equal(0.01, defaults.KeptFraction, 12);

        var options = new MethodOptions([new("popup_epochs", 15), new("anneal_epochs", 5), new("bias_ranking", "joint"), new("popup_lr", 0.05),
            new("popup_batch_size", 64), new("popup_momentum", 0.5), new("popup_weight_decay", 0.0)]);
        var scaled = EdgePopupMethod.Config(new PruneSpec("edge-popup-scaled", 0.8, PruneScope.Global, Options: options));
        Assert.Equal(new EdgePopupConfig(0.8, 15, 5, true, PruneScope.Global, BiasRanking.Joint, 64, 0.05, 0.5, 0.0), scaled);
    }

    [Theory]
    [InlineData("anneal_epochs", 11, "anneal_epochs 11 is impossible with popup_epochs 10")]
    [InlineData("bias_ranking", "both", "bias_ranking both is impossible for edge-popup: use one of separate, joint")]
    [InlineData("popup_lr", 0.0, "popup_lr 0 is impossible for edge-popup")]
    public void Impossible_options_are_one_line_errors(string key, object value, string expected)
    {
        var spec = new PruneSpec("edge-popup", 0.9, Options: new MethodOptions([new(key, value)]));
        var e = Assert.Throws<InitPruneException>(() => EdgePopupMethod.Config(spec));
        Assert.StartsWith(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Rescaling_or_a_dense_first_layer_is_refused()
    {
        var e = Assert.Throws<InitPruneException>(() => EdgePopupMethod.Config(new PruneSpec("edge-popup", 0.9, Rescale: RescaleSpec.Parse("eoc"))));
        Assert.StartsWith("rescale does not apply to edge-popup", e.Message);
        e = Assert.Throws<InitPruneException>(() => EdgePopupMethod.Config(new PruneSpec("edge-popup-scaled", 0.9, PruneFirst: false)));
        Assert.StartsWith("prune_first false does not apply to edge-popup-scaled", e.Message);
    }

    /// <summary>
    /// A search of 4 epochs equals, bit for bit, one stopped after epoch 2 whose scores, momentum, (rescaled) weights and
    /// scale are carried into a fresh model and a fresh <see cref="EdgePopup"/> that runs epochs 3 and 4.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_search_resumed_after_epoch_two_equals_the_uninterrupted_one(bool scaled)
    {
        using var data = TestNets.Ellipse(seed: 2, n: 600);
        var config = new EdgePopupConfig(0.8, Epochs: 4, AnnealEpochs: 2, Scaled: scaled, BatchSize: 64);

        using var straight = TestNets.Mlp(2, [16, 16], 4, seed: 5);
        List<TicketEpoch> all;
        Dictionary<string, Tensor> straightScores;
        Dictionary<string, bool[]> straightMask;
        using (var popup = new EdgePopup(straight, config, seed: 7))
        {
            all = popup.Run(data, seed: 9);
            straightScores = popup.Scores.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
            using var mask = popup.Mask();
            straightMask = mask.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.data<bool>().ToArray());
        }

        using var first = TestNets.Mlp(2, [16, 16], 4, seed: 5);
        TensorDict savedWeights;
        Dictionary<string, Tensor> savedScores;
        List<Tensor?> savedMomentum;
        TicketEpoch second;
        using (var popup = new EdgePopup(first, config with { Epochs = 4 }, seed: 7))
        {
            var stopped = new List<TicketEpoch>();
            popup.EpochEnd += e =>
            {
                stopped.Add(e);
                if (e.Epoch == 2) throw new OperationCanceledException();
            };
            Assert.Throws<OperationCanceledException>(() => popup.Run(data, seed: 9));
            second = stopped[^1];
            savedScores = popup.Scores.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
            savedMomentum = [.. popup.Momentum.Select(m => m?.detach().clone())];
            savedWeights = Network.CloneStateDict(first);
            Assert.All(savedMomentum, m => Assert.NotNull(m));
        }

        using var resumedModel = TestNets.Mlp(2, [16, 16], 4, seed: 123);
        Network.LoadStateDict(resumedModel, savedWeights, "saved");
        using var resumed = new EdgePopup(resumedModel, config, seed: 999, savedScores);
        resumed.RestoreMomentum(savedMomentum);
        var rest = resumed.Run(data, seed: 9, fromEpoch: 3, scale: second.Scale);

        Assert.Equal([3, 4], rest.Select(e => e.Epoch));
        Assert.Equal(all.Skip(2).Select(e => (e.KeptFraction, e.LearningRate, e.Lambda, e.Scale, e.TrainLoss, e.TestLoss, e.TestAccuracy)),
            rest.Select(e => (e.KeptFraction, e.LearningRate, e.Lambda, e.Scale, e.TrainLoss, e.TestLoss, e.TestAccuracy)));
        foreach (var (name, s) in straightScores) Assert.True(TestNets.Same(s, resumed.Scores[name]), name);
        using (var mask = resumed.Mask())
            foreach (var (name, m) in straightMask) Assert.Equal(m, mask.Tensors[name].data<bool>().ToArray());
        foreach (var (name, w) in Network.StateDict(straight)) Assert.True(TestNets.Same(w, Network.StateDict(resumedModel)[name]), name);
        Assert.Throws<InitPruneException>(() => resumed.Run(data, seed: 9, fromEpoch: 0));
        savedWeights.Dispose();
    }
}
