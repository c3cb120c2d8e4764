using InitPrune.Data;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Pruning;

public class FixedMultiplierTests
{
    /// <summary>
    /// Folding ρ into the weights and scaling gradients by ρ² (RescaleSpec.Fixed) must train exactly like a network
    /// whose effective weight is ρ ⊙ M ⊙ P with P the trained parameter: checked against such a network written out
    /// by hand and trained with the same SGD (momentum, weight decay) on the same batches.
    /// </summary>
    [Fact]
    public void FixedRescalingTrainsLikeAFixedMultiplier()
    {
        using var data = TestNets.Ellipse(n: 600);
        using var model = TestNets.Mlp(2, [16], 4, seed: 2);
        using var pruned = Pruner.Prune(model, new PruneSpec("random", 0.6, Rescale: new RescaleSpec(Fixed: true)),
            new ScoringContext(null, null, TaskKind.Classification, 5));
        var names = new[] { "layers.0", "layers.2" };
        var rho = names.Select(n => pruned.Rescale![$"{n}.weight"].clone()).ToArray();
        var mask = names.Select(n => pruned.Mask.Tensors[$"{n}.weight"].to(ScalarType.Float32)).ToArray();
        var state = Network.StateDict(model);
        // Hand-built reference: parameters P = folded / ρ, effective weight ρ ⊙ M ⊙ P.
        var p = names.Select((n, i) => (state[$"{n}.weight"] / rho[i]).detach().requires_grad_()).ToArray();
        var b = names.Select(n => state[$"{n}.bias"].detach().clone().requires_grad_()).ToArray();
        var config = new TrainConfig(Epochs: 2, BatchSize: 20, LearningRate: 0.1, Momentum: 0.9, WeightDecay: 1e-3);

        new Trainer(config).Train(model, data, seed: 9);

        var pp = p.Select(t => new TorchSharp.Modules.Parameter(t.detach().clone())).ToArray();
        var bp = b.Select(t => new TorchSharp.Modules.Parameter(t.detach().clone())).ToArray();
        using var sgd = optim.SGD([.. pp, .. bp], 0.1, 0.9, 0, 1e-3);
        var loader = new DataLoader(data.Train, 20, shuffle: true, seed: 9);
        for (int epoch = 1; epoch <= 2; epoch++)
            foreach (var (x, y) in loader.Epoch(epoch))
            {
                sgd.zero_grad();
                var h = nn.functional.relu(nn.functional.linear(x, rho[0] * mask[0] * pp[0], bp[0]));
                var logits = nn.functional.linear(h, rho[1] * mask[1] * pp[1], bp[1]);
                nn.functional.cross_entropy(logits, y).backward();
                sgd.step();
            }

        state = Network.StateDict(model);
        for (int i = 0; i < 2; i++)
        {
            var effective = rho[i] * mask[i] * pp[i];
            Assert.True(state[$"{names[i]}.weight"].allclose(effective, rtol: 1e-4, atol: 1e-6), names[i]);
            Assert.True(state[$"{names[i]}.bias"].allclose(bp[i], rtol: 1e-4, atol: 1e-6), names[i]);
        }
        // And it is not the folded training: without the gradient scale the weights end elsewhere.
        Assert.Contains(rho, r => r.sub(1).abs().max().item<float>() > 0.05f);
    }
}
