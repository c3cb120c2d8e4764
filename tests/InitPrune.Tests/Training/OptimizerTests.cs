using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Data;
using InitPrune.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Tests.Training;

/// <summary>
/// Adam, AdamW and RMSprop against PyTorch 1.13's torch.optim on the same weights and gradients (tests/pytorch/optim_step.py,
/// Debian's python3-torch); the smoothed cross-entropy against torch's; warm-up against its hand-computed rates.
/// </summary>
public class OptimizerTests
{

    static TensorDict RunPyTorch(Dictionary<string, Tensor> input, Dictionary<string, string> meta)
    {
        using var temp = new TempDir();
        string src = Path.Combine(temp.Path, "in.safetensors"), dst = Path.Combine(temp.Path, "out.safetensors");
        Safetensors.Save(src, input, meta);
        PyTorchScript.Run("optim_step.py", src, dst);
        return Safetensors.Load(dst);
    }

    [Theory]
    [InlineData("adam", 0.0)]
    [InlineData("adam", 0.01)]
    [InlineData("adamw", 0.0)]
    [InlineData("adamw", 0.05)]
    [InlineData("rmsprop", 0.0)]
    [InlineData("rmsprop", 0.01)]
    public void Steps_equal_torch_optim_on_the_same_weights_and_gradients(string optimizer, double weightDecay)
    {
        using var gen = new Generator(21);
        var start = new[] { randn([6, 4], generator: gen), randn([5], generator: gen) };
        double[] rates = [0.01, 0.0, 0.02, 0.005, 0.01, 0.03];
        var config = new TrainConfig(Momentum: 0.9, WeightDecay: weightDecay, Optimizer: optimizer, Beta1: 0.8, Beta2: 0.95, Eps: 1e-6, RmspropAlpha: 0.9);
        var ours = start.Select(t => new Parameter(t.clone())).ToArray();
        using var opt = Optimizers.Create(config, ours);
        var input = new Dictionary<string, Tensor>();
        for (int i = 0; i < start.Length; i++) input[$"p.{i}"] = start[i];
        for (int k = 0; k < rates.Length; k++)
        {
            input[$"lr.{k}"] = tensor(new[] { rates[k] });
            for (int i = 0; i < start.Length; i++)
            {
                var g = randn(start[i].shape, generator: gen);
                if (k == 3) g[0] = zeros_like(g[0]); // a zero gradient row: Adam's state still decays there
                input[$"g.{k}.{i}"] = g;
                ours[i].grad = g.clone();
            }
            opt.Step(rates[k]);
        }
        using var theirs = RunPyTorch(input, new()
        {
            ["optimizer"] = optimizer,
            ["parameters"] = "2",
            ["steps"] = rates.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["weight_decay"] = weightDecay.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["beta1"] = "0.8",
            ["beta2"] = "0.95",
            ["eps"] = "1e-6",
            ["alpha"] = "0.9",
        });
        for (int i = 0; i < start.Length; i++)
        {
            Assert.False(TestNets.Same(ours[i], start[i]), $"parameter {i} moved");
            double diff = (ours[i] - theirs[$"p.{i}"]).abs().max().item<float>();
            Assert.True(diff < 1e-6, $"{optimizer}: parameter {i} differs from torch.optim by {diff}");
        }
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.3)]
    public void Label_smoothing_equals_torch_cross_entropy(double smoothing)
    {
        using var gen = new Generator(5);
        var logits = randn([16, 10], generator: gen) * 3;
        var targets = randint(0, 10, [16], generator: gen);
        var theirs = RunPyTorch(new() { ["logits"] = logits, ["targets"] = targets },
            new() { ["label_smoothing"] = smoothing.ToString("R", System.Globalization.CultureInfo.InvariantCulture) })["loss"].item<float>();
        // The loss the trainer minimizes, and its closed form: (1 − ε)·CE(one-hot) + ε·mean over classes of −log p.
        var ours = nn.functional.cross_entropy(logits, targets, label_smoothing: smoothing).item<float>();
        var logp = nn.functional.log_softmax(logits, 1);
        double closed = -((1 - smoothing) * logp.gather(1, targets.unsqueeze(1)).mean().item<float>() + smoothing * logp.mean().item<float>());
        Assert.Equal(theirs, ours, 5e-6);
        Assert.Equal(closed, ours, 5e-6);
    }

    [Fact]
    public void Warm_up_rates_follow_open_lth_min_one_t_over_n()
    {
        var c = new TrainConfig(WarmupSteps: 4);
        double[] expected = [0.0, 0.025, 0.05, 0.075, 0.1, 0.1];
        for (int t = 0; t < expected.Length; t++) Assert.Equal(expected[t], c.StepRate(0.1, t), 1e-15);
        Assert.Equal(0.1, new TrainConfig().StepRate(0.1, 0));
    }

    /// <summary>The trainer with warm-up equals a hand-written loop over the same batches at rates 0, η/2, η.</summary>
    [Fact]
    public void Trainer_with_warm_up_steps_at_the_ramped_rates()
    {
        using var data = TestNets.Ellipse(n: 64);
        using var a = TestNets.Mlp(2, [8], 4, seed: 3);
        using var b = TestNets.Mlp(2, [8], 4, seed: 3);
        new Trainer(new TrainConfig(BatchSize: 16, LearningRate: 0.2, Momentum: 0, WarmupSteps: 2, MaxSteps: 3)).Train(a, data, 7);
        var loader = new InitPrune.Data.DataLoader(data.Train, 16, shuffle: true, seed: 7);
        using var sgd = new Sgd([.. b.parameters()], 0, 0, false);
        double[] rates = [0, 0.1, 0.2];
        int k = 0;
        foreach (var (x, y) in loader.Epoch(1))
        {
            if (k == rates.Length) break;
            b.zero_grad();
            Trainer.Loss(b.forward(x), y, data.Train.Kind).backward();
            sgd.Step(rates[k++]);
        }
        foreach (var (name, w) in Network.StateDict(a)) Assert.True(TestNets.Same(w, Network.StateDict(b)[name]), name);
    }

    [Theory]
    [InlineData("adam", 0.01)]
    [InlineData("adamw", 0.1)]
    [InlineData("rmsprop", 0.01)]
    public void Pruned_weights_stay_exactly_zero(string optimizer, double weightDecay)
    {
        using var data = TestNets.Ellipse(n: 1000);
        using var model = TestNets.Mlp(2, [32, 32], 4);
        using var pruned = Pruner.Prune(model, new PruneSpec("random", 0.8, IncludeBiases: true), new ScoringContext(null, null, TaskKind.Classification, 1));
        new Trainer(new TrainConfig(Epochs: 2, BatchSize: 16, LearningRate: 0.01, Optimizer: optimizer, WeightDecay: weightDecay)).Train(model, data, 0);
        foreach (var (name, mask) in pruned.Mask.Tensors)
        {
            var values = TestNets.Values(Network.StateDict(model)[name].masked_select(mask.logical_not()));
            Assert.NotEmpty(values);
            Assert.All(values, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v) & 0x7fffffff));
        }
    }

    /// <summary>The optimizer's state in <see cref="TrainState"/> resumes Adam bit for bit (what a sweep's checkpoint holds).</summary>
    [Theory]
    [InlineData("adam")]
    [InlineData("rmsprop")]
    public void Resuming_from_the_saved_state_equals_an_uninterrupted_run(string optimizer)
    {
        using var data = TestNets.Ellipse(n: 256);
        var config = new TrainConfig(Epochs: 2, BatchSize: 32, LearningRate: 0.01, Optimizer: optimizer, WarmupSteps: 5);
        using var whole = TestNets.Mlp(2, [8], 4, seed: 1);
        Dictionary<string, Tensor>? afterOne = null;
        TrainState? saved = null;
        var trainer = new Trainer(config);
        trainer.StateSaved += s =>
        {
            if (s.Epoch != 1) return;
            afterOne = Network.StateDict(whole).ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
            saved = s with { Momentum = [.. s.Momentum.Select(t => t?.detach().clone())] };
        };
        trainer.Train(whole, data, 4);
        using var resumed = TestNets.Mlp(2, [8], 4, seed: 2);
        Network.LoadStateDict(resumed, afterOne!, "epoch 1");
        new Trainer(config).Train(resumed, data, 4, resume: saved);
        foreach (var (name, w) in Network.StateDict(whole)) Assert.True(TestNets.Same(w, Network.StateDict(resumed)[name]), name);
    }

    [Theory]
    [InlineData("adam", 0.5, 0.999, 1e-8, 0.99, "--momentum does nothing for --optimizer adam")]
    [InlineData("sgd", 0.9, 0.9, 1e-8, 0.99, "--beta2 does nothing for --optimizer sgd")]
    [InlineData("rmsprop", 0.9, 0.999, 0.0, 0.99, "--eps 0 is impossible")]
    [InlineData("adamw", 0.9, 0.999, 1e-8, 0.5, "--rmsprop-alpha does nothing for --optimizer adamw")]
    [InlineData("lbfgs", 0.9, 0.999, 1e-8, 0.99, "unknown optimizer 'lbfgs'")]
    public void Impossible_or_irrelevant_settings_are_one_line_errors(string optimizer, double momentum, double beta2, double eps, double alpha, string message)
    {
        var e = Assert.Throws<InitPruneException>(() => new TrainConfig(Optimizer: optimizer, Momentum: momentum, Beta2: beta2, Eps: eps, RmspropAlpha: alpha).Validate());
        Assert.Contains(message, e.Message);
    }
}
