using InitPrune.Engine;
using InitPrune.Theory;

namespace InitPrune.Tests.Theory.Sparsity;

public class SimulationTests
{
    // tanh with σb = 0.3: σw = 0.5 is in the ordered phase (χ < 1), σw = 3 in the chaotic phase (χ > 1).
    static CriticalSparsityResult Run(double sigmaW, string method = "snip", double shrink = 1) =>
        CriticalSparsitySimulation.Run(new CriticalSparsitySpec(Depth: 30, Width: 24, Activation: "tanh", SigmaW: sigmaW, SigmaB: 0.3, Method: method, Samples: 3, BatchSize: 32, FirstLayerShrink: shrink));

    [Fact]
    public void OrderedPhaseEmptiesAnEarlyLayerChaoticPhaseALateOne()
    {
        // Seed 001 §2.2 / Fig. 1: gradients vanish backwards in the ordered phase and explode in the chaotic one.
        var ordered = Run(0.5);
        var chaotic = Run(3.0);
        Assert.All(ordered.Samples, s => Assert.True(LayerIndex(s.Layer) <= 10, s.Layer));
        Assert.All(chaotic.Samples, s => Assert.True(LayerIndex(s.Layer) >= 20, s.Layer));
    }

    [Fact]
    public void MagnitudePruningEmptiesTheLowVarianceFirstLayer()
    {
        // Prop. 4's setting: dividing the first layer's weights by γ makes it the one that empties.
        var r = Run(1.0, "magnitude", shrink: 10);
        Assert.All(r.Samples, s => Assert.Equal("layers.0.weight", s.Layer));
        Assert.Equal(r.Samples.Average(s => s.Value), r.Mean, 12);
    }

    [Fact]
    public void ImpossibleSpecIsAUserError() =>
        Assert.Throws<InitPruneException>(() => CriticalSparsitySimulation.Run(new CriticalSparsitySpec(Depth: 0)));

    static int LayerIndex(string name) => int.Parse(name.Split('.')[1]) / 2;
}
