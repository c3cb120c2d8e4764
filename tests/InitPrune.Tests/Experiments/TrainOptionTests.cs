using System.Text.Json;
using InitPrune.Cli.Commands;
using InitPrune.Experiments.Sweeps;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Experiments;

/// <summary>Issue 11 §2's training options (optimizer, betas, eps, RMSprop's α, label smoothing, warm-up) in specs, run ids and the CLI.</summary>
public class TrainOptionTests
{
    static RunConfig FromSpec(string train, string prune = "{method: snip, sparsity: 0.5}")
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "s.yaml");
        File.WriteAllText(path, $"name: s\ndata: {{name: ellipse}}\nmodel: {{name: mlp, depth: 2, width: 16}}\ninit: {{name: normal}}\nprune: {prune}\ntrain: {train}\n");
        return SpecLoader.Load(path, "full", null).Entries.Single().Config;
    }

    [Fact]
    public void Spec_options_reach_the_trainer_and_the_run_id()
    {
        var plain = FromSpec("{epochs: 1}");
        var adam = FromSpec("{epochs: 1, optimizer: adam, beta1: 0.8, beta2: 0.99, eps: 1e-6, label_smoothing: 0.1, warmup_steps: 50}");
        var c = adam.ToTrainConfig();
        Assert.Equal(("adam", 0.8, 0.99, 1e-6, 0.1, 50), (c.Optimizer, c.Beta1, c.Beta2, c.Eps, c.LabelSmoothing, c.WarmupSteps));
        Assert.NotEqual(plain.Id, adam.Id);
        var train = JsonDocument.Parse(adam.ToJson()).RootElement.GetProperty("train");
        Assert.Equal("adam", train.GetProperty("optimizer").GetString());
        Assert.Equal(50, train.GetProperty("warmup_steps").GetInt32());
        Assert.False(train.TryGetProperty("rmsprop_alpha", out _));
        Assert.Equal(adam.Id, RunConfig.FromJson(adam.ToJson()).Id);
        Assert.NotEqual(FromSpec("{epochs: 1, optimizer: adam}").Id, FromSpec("{epochs: 1, optimizer: adamw}").Id);
    }

    [Fact]
    public void Options_of_another_optimizer_are_normalized_away()
    {
        // SGD ignores Adam's and RMSprop's hyper-parameters; Adam ignores momentum: the same run, the same id.
        Assert.Equal(FromSpec("{epochs: 1}").Id, FromSpec("{epochs: 1, beta1: 0.5, eps: 0.1, rmsprop_alpha: 0.5}").Id);
        Assert.Equal(FromSpec("{epochs: 1, optimizer: adam}").Id, FromSpec("{epochs: 1, optimizer: adam, momentum: 0.5, nesterov: true}").Id);
        Assert.Equal(FromSpec("{epochs: 1, optimizer: rmsprop}").Id, FromSpec("{epochs: 1, optimizer: rmsprop, beta2: 0.9}").Id);
        FromSpec("{epochs: 1, optimizer: adam, momentum: 0.5}").ToTrainConfig().Validate();
    }

    [Fact]
    public void Prune_imp_rounds_take_the_training_options()
    {
        var command = new PruneCommand();
        var parsed = command.Command.Parse(["--dataset", "ellipse", "--method", "imp", "--sparsity", "0.5", "--optimizer", "adamw", "--beta2", "0.98",
            "--label-smoothing", "0.2", "--warmup-steps", "7"]);
        Assert.Empty(parsed.Errors);
        var train = command.Read(parsed).Train!;
        Assert.Equal(("adamw", 0.98, 0.2, 7), (train.Optimizer, train.Beta2, train.LabelSmoothing, train.WarmupSteps));
    }

    [Fact]
    public void Train_from_the_command_line_with_adam_and_its_errors()
    {
        using var root = new TempDir();
        var ok = CliRunner.Run("train", "--dataset", "ellipse", "--model", "mlp", "--width", "16", "--epochs", "1", "--optimizer", "adam", "--lr", "0.01",
            "--label-smoothing", "0.1", "--warmup-steps", "5", "--out", Path.Combine(root.Path, "a"), "--json");
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.True(File.Exists(Path.Combine(root.Path, "a", "final.safetensors")));
        var wrong = CliRunner.Run("train", "--dataset", "ellipse", "--epochs", "1", "--beta1", "0.5", "--out", Path.Combine(root.Path, "b"));
        Assert.Contains("--beta1 does nothing for --optimizer sgd", CliRunner.AssertOneLineError(wrong));
        var unknown = CliRunner.Run("train", "--dataset", "ellipse", "--epochs", "1", "--optimizer", "lbfgs", "--out", Path.Combine(root.Path, "c"));
        Assert.Contains("lbfgs", CliRunner.AssertOneLineError(unknown));
        var regression = CliRunner.Run("train", "--dataset", "shifted-relu", "--epochs", "1", "--label-smoothing", "0.1", "--out", Path.Combine(root.Path, "d"));
        Assert.Contains("--label-smoothing needs a classification dataset", CliRunner.AssertOneLineError(regression));
    }
}

/// <summary>pre_epochs: train before pruning, prune the trained weights (Synaptic-Flow's --pre-epochs).</summary>
public class PreEpochsTests
{
    static InitPrune.Experiments.PruneOptions Read(params string[] args)
    {
        var command = new PruneCommand();
        var parsed = command.Command.Parse(["--dataset", "ellipse", "--model", "mlp", "--width", "16", "--seed", "3", .. args]);
        Assert.Empty(parsed.Errors);
        return command.Read(parsed);
    }

    [Fact]
    public void Magnitude_after_pre_epochs_keeps_the_largest_trained_weights()
    {
        using var root = new TempDir();
        var o = Read("--method", "magnitude", "--sparsity", "0.7", "--pre-epochs", "2", "--optimizer", "adam", "--lr", "0.01", "--batch-size", "50");
        Assert.Equal((2, "adam", 0.01, 50), (o.PreTrain!.Epochs, o.PreTrain.Optimizer, o.PreTrain.LearningRate, o.PreTrain.BatchSize));
        InitPrune.Experiments.PruneJob.Run(o, root.Path);

        // The truth: θ₀, trained 2 epochs with the same recipe, then the 30% largest |W| over all layers.
        var data = InitPrune.Data.DatasetRegistry.Load(o.Dataset, null, (int)o.Seed);
        using var model = InitPrune.Experiments.Setup.Model(data, o.Model, o.Init, o.Seed);
        var initial = InitPrune.Models.Network.StateDict(model).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        new InitPrune.Training.Trainer(o.PreTrain).Train(model, data, InitPrune.Engine.Seeds.For(o.Seed, "pre-train"));
        var trained = InitPrune.Models.Network.Prunable(model).ToDictionary(t => t.Name, t => t.Value.detach().clone());
        var all = trained.Values.SelectMany(t => TestNets.Values(t.abs())).OrderByDescending(v => v).ToArray();
        int kept = (int)Math.Round(0.3 * all.Length);
        float threshold = all[kept - 1];
        Assert.True(all[kept] < threshold, "a tie at the threshold would make the expected mask ambiguous");

        var mask = InitPrune.IO.Safetensors.Load(Path.Combine(root.Path, "mask.safetensors"));
        var pruned = InitPrune.IO.Safetensors.Load(Path.Combine(root.Path, "weights.pruned.safetensors"));
        var saved = InitPrune.IO.Safetensors.Load(Path.Combine(root.Path, "weights.safetensors"));
        foreach (var (name, w) in trained)
        {
            Assert.True(TestNets.Same(mask[name], w.abs().ge(threshold)), name);
            Assert.True(TestNets.Same(pruned[name], w * mask[name].to(w.dtype)), $"{name}: the pruned weights are the trained ones");
            Assert.True(TestNets.Same(saved[name], initial[name]), $"{name}: weights.safetensors is θ₀");
            Assert.False(TestNets.Same(w, initial[name]), $"{name} trained");
        }
        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(root.Path, "summary.json")));
        var settings = summary.RootElement.GetProperty("settings");
        Assert.Equal(2, settings.GetProperty("pre_epochs").GetInt32());
        Assert.Equal("adam", settings.GetProperty("pre_train").GetProperty("optimizer").GetString());
    }

    [Fact]
    public void Pre_epochs_zero_is_pruning_at_initialization()
    {
        Assert.Null(Read("--method", "snip", "--sparsity", "0.5").PreTrain);
        Assert.Null(Read("--method", "snip", "--sparsity", "0.5", "--pre-epochs", "0").PreTrain);
        using var a = new TempDir();
        using var b = new TempDir();
        InitPrune.Experiments.PruneJob.Run(Read("--method", "magnitude", "--sparsity", "0.5"), a.Path);
        InitPrune.Experiments.PruneJob.Run(Read("--method", "magnitude", "--sparsity", "0.5", "--pre-epochs", "0"), b.Path);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, "mask.safetensors")), File.ReadAllBytes(Path.Combine(b.Path, "mask.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, "weights.pruned.safetensors")), File.ReadAllBytes(Path.Combine(b.Path, "weights.pruned.safetensors")));
    }

    [Fact]
    public void Training_options_need_imp_or_pre_epochs_on_prune()
    {
        var command = new PruneCommand();
        var e = Assert.Throws<InitPrune.Engine.InitPruneException>(() => command.Read(command.Command.Parse(["--method", "snip", "--sparsity", "0.5", "--lr", "0.2"])));
        Assert.Contains("--lr does nothing for method 'snip'", e.Message);
        Assert.Equal(0.2, Read("--method", "snip", "--sparsity", "0.5", "--lr", "0.2", "--pre-epochs", "1").PreTrain!.LearningRate);
    }

    [Fact]
    public void Spec_pre_epochs_is_in_the_id_and_kept_for_prune_only_runs()
    {
        static RunConfig Spec(string train, string prune = "{method: snip, sparsity: 0.5}")
        {
            using var dir = new TempDir();
            var path = Path.Combine(dir.Path, "s.yaml");
            File.WriteAllText(path, $"name: s\ndata: {{name: ellipse}}\nmodel: {{name: mlp, depth: 2, width: 16}}\ninit: {{name: normal}}\nprune: {prune}\ntrain: {train}\n");
            return SpecLoader.Load(path, "full", null).Entries.Single().Config;
        }
        Assert.Equal(Spec("{epochs: 1}").Id, Spec("{epochs: 1, pre_epochs: 0}").Id);
        var early = Spec("{epochs: 0, pre_epochs: 2, lr: 0.05, milestones: [0.5], schedule: step}");
        var pre = early.ToPreTrainConfig()!;
        Assert.Equal((2, 0.05), (pre.Epochs, pre.LearningRate));
        Assert.Equal([1], pre.Milestones!);
        Assert.NotEqual(Spec("{epochs: 0}").Id, early.Id);
        Assert.Null(Spec("{epochs: 1, pre_epochs: 2}", "{method: none}").ToPreTrainConfig());
    }
}
