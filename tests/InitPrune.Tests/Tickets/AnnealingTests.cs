using InitPrune.Engine;
using InitPrune.Tickets;

namespace InitPrune.Tests.Tickets;

public class AnnealingTests
{
    [Fact]
    public void Kept_fraction_anneals_as_rho_to_the_i_over_ea_then_stays_at_rho()
    {
        var config = new EdgePopupConfig(Sparsity: 0.99, Epochs: 8, AnnealEpochs: 5);
        Assert.Equal(0.01, config.KeptFraction, 15);
        double[] expected = [Math.Pow(0.01, 0.2), Math.Pow(0.01, 0.4), Math.Pow(0.01, 0.6), Math.Pow(0.01, 0.8), 0.01, 0.01, 0.01, 0.01];
        for (int i = 1; i <= 8; i++) Assert.Equal(expected[i - 1], config.KeptFractionAt(i), 15);
        Assert.Equal(0.3981071705534972, config.KeptFractionAt(1), 15); // 0.01^(1/5)
        Assert.Equal(0.01, config.KeptFractionAt(5), 15);
    }

    [Fact]
    public void Without_annealing_every_epoch_keeps_rho()
    {
        var config = new EdgePopupConfig(Sparsity: 0.9, Epochs: 3);
        Assert.All(Enumerable.Range(1, 3), i => Assert.Equal(0.1, config.KeptFractionAt(i), 15));
    }

    [Fact]
    public void Learning_rate_follows_the_cosine_from_lr_per_epoch()
    {
        var config = new EdgePopupConfig(Sparsity: 0.5, Epochs: 4, LearningRate: 0.1);
        Assert.Equal(0.1, config.LearningRateAt(1), 15);
        Assert.Equal(0.05 * (1 + Math.Cos(Math.PI / 4)), config.LearningRateAt(2), 15);
        Assert.Equal(0.05, config.LearningRateAt(3), 15);
        Assert.Equal(0.05 * (1 + Math.Cos(3 * Math.PI / 4)), config.LearningRateAt(4), 15);
    }

    [Fact]
    public void Defaults_are_the_papers_recipe()
    {
        var c = new TicketSettings().ToConfig();
        Assert.Equal((32, 0.1, 0.9, 5e-4, 10, 0), (c.BatchSize, c.LearningRate, c.Momentum, c.WeightDecay, c.Epochs, c.AnnealEpochs));
        Assert.Equal(InitPrune.Pruning.PruneScope.LayerWise, c.Scope);
        Assert.Equal(BiasRanking.Separate, c.Biases);
    }

    [Fact]
    public void More_annealing_epochs_than_epochs_is_one_line_error()
    {
        var e = Assert.Throws<InitPruneException>(() => new EdgePopupConfig(Sparsity: 0.9, Epochs: 3, AnnealEpochs: 5).Validate());
        Assert.Contains("--anneal-epochs 5", e.Message);
    }
}
