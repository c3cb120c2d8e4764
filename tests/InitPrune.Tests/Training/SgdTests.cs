using InitPrune.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Training;

public class SgdTests
{
    /// <summary>Independent truth: TorchSharp's port of torch.optim.SGD, on identical parameters and gradients.</summary>
    [Theory]
    [InlineData(0.0, 0.0, false)]
    [InlineData(0.9, 0.0, false)]
    [InlineData(0.9, 5e-4, false)]
    [InlineData(0.9, 5e-4, true)]
    [InlineData(0.0, 1e-2, false)]
    public void Sgd_gives_the_same_bits_as_torch_optim_SGD(double momentum, double weightDecay, bool nesterov)
    {
        using var gen = new Generator(4);
        var start = new[] { randn([5, 3], generator: gen), randn([7], generator: gen) };
        var ours = start.Select(t => new TorchSharp.Modules.Parameter(t.clone())).ToArray();
        var theirs = start.Select(t => new TorchSharp.Modules.Parameter(t.clone())).ToArray();
        using var sgd = new Sgd(ours, momentum, weightDecay, nesterov);
        using var reference = optim.SGD(theirs, 0.1, momentum, 0.0, weightDecay, nesterov);
        double[] rates = [0.1, 0.1, 0.05, 0.05, 0.01];
        foreach (var lr in rates)
        {
            var grads = start.Select(t => randn(t.shape, generator: gen)).ToArray();
            for (int i = 0; i < grads.Length; i++)
            {
                ours[i].grad = grads[i].clone();
                theirs[i].grad = grads[i].clone();
            }
            reference.ParamGroups.First().LearningRate = lr;
            sgd.Step(lr);
            reference.step();
            for (int i = 0; i < ours.Length; i++) Assert.True(TestNets.Same(ours[i], theirs[i]), $"parameter {i} after lr {lr}");
        }
        if (momentum > 0) Assert.All(sgd.Momentum, b => Assert.NotNull(b));
        else Assert.All(sgd.Momentum, b => Assert.Null(b));
    }
}
