using System.Diagnostics;
using InitPrune.Data;
using InitPrune.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Training;

/// <summary>
/// Mini-batch training (SGD with momentum, Nesterov and weight decay, or Adam, AdamW, RMSprop: <see cref="Optimizers"/>)
/// with a per-epoch schedule, an optional per-step linear warm-up and a test evaluation after each epoch. Pruned weights
/// stay exactly zero: after every backward pass their gradients are masked, and with zero weight, gradient and
/// optimizer state no step (momentum, weight decay, Adam's and RMSprop's 0/(0 + ε)) can move them.
/// </summary>
public sealed class Trainer(TrainConfig config)
{
    public TrainConfig Config { get; } = config;

    /// <summary>Raised after every optimizer step.</summary>
    public event Action<StepProgress>? Step;

    /// <summary>Raised after every epoch's evaluation, before the next epoch starts.</summary>
    public event Action<EpochMetrics>? EpochEnd;

    /// <summary>
    /// Raised after every epoch with the state needed to resume (<see cref="TrainState"/>); the optimizer's state tensors
    /// belong to the optimizer: copy or save them inside the handler.
    /// </summary>
    public event Action<TrainState>? StateSaved;

    /// <summary>
    /// Raised with each recorded ‖J‖ (<see cref="TrainConfig.JacobianEvery"/> &gt; 0): at step 0 before the first update
    /// (not when resuming after it) and after every JacobianEvery-th optimizer step.
    /// </summary>
    public event Action<JacobianPoint>? JacobianMeasured;

    /// <summary>
    /// The hyper-parameters the TensorBoard log records for the HParams plugin (a sweep gives the run's flattened
    /// settings); null: the recipe's.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, object?>>? HParams { get; init; }

    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="data"/>. With <paramref name="validation"/> the epoch metrics also
    /// hold its loss and accuracy. With <paramref name="resume"/> (the state after epoch k, the model already holding that
    /// epoch's weights) training continues at epoch k + 1 exactly as an uninterrupted run would; the returned list then
    /// holds only the epochs computed by this call.
    /// </summary>
    public List<EpochMetrics> Train(nn.Module<Tensor, Tensor> model, DatasetSplit data, long seed, Dataset? validation = null, TrainState? resume = null)
    {
        Config.Validate();
        data.Train.RequireSamples("training");
        data.Test.RequireSamples("test");
        var masked = Models.Network.MaskedModules(model).Select(l => l.Module).Where(l => l.WeightMask is not null || l.BiasMask is not null || l.GradientScale is not null).ToArray();
        var loader = new DataLoader(data.Train, Config.BatchSize, shuffle: true, seed: seed);
        bool augment = Config.Augment == "crop-flip";
        if (augment && data.Train.SampleShape.Length != 3)
            throw new InitPruneException($"augmentation crop-flip needs images, but {data.Train.Name} holds samples of shape [{string.Join(", ", data.Train.SampleShape)}]: use augment none");
        if (Config.LabelSmoothing != 0 && data.Train.Kind != TaskKind.Classification)
            throw new InitPruneException($"--label-smoothing needs a classification dataset, but {data.Train.Name} is a regression task");
        // TorchSharp's SGD object only carries the learning rate its schedulers set; IOptimizer does the update.
        using var optimizer = optim.SGD(model.parameters(), Config.LearningRate, Config.Momentum, 0.0, Config.WeightDecay, Config.Nesterov);
        using var sgd = Optimizers.Create(Config, [.. model.parameters()]);
        var schedule = Config.Schedule switch
        {
            "step" => optim.lr_scheduler.MultiStepLR(optimizer, Config.EffectiveMilestones, Config.Gamma),
            "cosine" => optim.lr_scheduler.CosineAnnealingLR(optimizer, Config.Epochs),
            _ => null,
        };
        int firstEpoch = 1;
        long steps = 0;
        if (resume is not null)
        {
            sgd.Restore(resume.Momentum);
            for (int e = 0; e < resume.Epoch; e++) schedule?.step();
            (firstEpoch, steps) = (resume.Epoch + 1, resume.Steps);
        }
        using var board = Config.TensorBoardDir is { } dir ? new TensorBoardWriter(dir) : null;
        board?.AddHParams(HParams ?? RecipeHParams(Config), BoardMetrics(data.Train.Kind, validation is not null));
        board?.AddSparsity(model, steps);
        using var tracker = Config.JacobianEvery > 0 ? new JacobianTracker(model, data.Test, Config, seed) : null;
        void Track(int epoch, double? loss)
        {
            var point = tracker!.Measure(model, steps, epoch, loss);
            board?.AddScalar("jacobian/norm", point.Norm, steps);
            JacobianMeasured?.Invoke(point);
        }

        if (tracker is not null && steps == 0) Track(0, null);
        var history = new List<EpochMetrics>();
        for (int epoch = firstEpoch; epoch <= Config.Epochs && !(steps >= Config.MaxSteps); epoch++)
        {
            double lr = optimizer.ParamGroups.First().LearningRate;
            var clock = Stopwatch.StartNew();
            model.train();
            using var augmentation = augment ? new Generator(DataLoader.SeedFor(seed ^ 0x5A17, epoch)) : null;
            double lossSum = 0; long seen = 0; int step = 0;
            foreach (var (x, y) in loader.Epoch(epoch))
            {
                using var batchX = x;
                using var batchY = y;
                if (steps >= Config.MaxSteps) break;
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var input = augmentation is null ? x : Augmentation.CropFlip(x, augmentation);
                var output = model.forward(input);
                var loss = Config.LabelSmoothing == 0 ? Loss(output, y, data.Train.Kind) : nn.functional.cross_entropy(output, y, label_smoothing: Config.LabelSmoothing);
                float value = loss.item<float>();
                if (!float.IsFinite(value))
                    throw new DivergenceException($"training diverged: loss is {value} at epoch {epoch}, step {step + 1} (learning rate {lr:g4}); lower --lr or check the initialization (metrics of completed epochs are kept)");
                loss.backward();
                foreach (var layer in masked) layer.MaskGradients();
                sgd.Step(Config.StepRate(lr, steps));
                long n = x.shape[0];
                lossSum += value * n; seen += n; step++; steps++;
                board?.AddScalar("train/step_loss", value, steps);
                if (tracker is not null && JacobianTracker.Records(steps, Config.JacobianEvery)) Track(epoch, value);
                Step?.Invoke(new StepProgress(epoch, Config.Epochs, step, loader.BatchesPerEpoch, value, seen / clock.Elapsed.TotalSeconds));
            }
            double trainSeconds = clock.Elapsed.TotalSeconds;
            schedule?.step();
            var (testLoss, testAcc) = Evaluate(model, data.Test, Config.EvalBatchSize);
            (double? valLoss, double? valAcc) = validation is null ? ((double?)null, (double?)null) : Evaluate(model, validation, Config.EvalBatchSize);
            var metrics = new EpochMetrics(epoch, lr, lossSum / seen, testLoss, testAcc, clock.Elapsed.TotalSeconds, seen / trainSeconds, valLoss, valAcc);
            history.Add(metrics);
            if (board is not null)
            {
                board.AddScalar("train/loss", metrics.TrainLoss, epoch);
                board.AddScalar("test/loss", metrics.TestLoss, epoch);
                if (testAcc is { } a) board.AddScalar("test/accuracy", a, epoch);
                if (valAcc is { } v) board.AddScalar("validation/accuracy", v, epoch);
                board.AddScalar("lr", lr, epoch);
            }
            EpochEnd?.Invoke(metrics);
            StateSaved?.Invoke(new TrainState(epoch, steps, sgd.State));
        }
        board?.EndSession(success: true);
        return history;
    }

    /// <summary>The scalar tags logged per epoch, the HParams plugin's metrics.</summary>
    static List<string> BoardMetrics(TaskKind kind, bool validation)
    {
        List<string> tags = ["train/loss", "test/loss"];
        if (kind == TaskKind.Classification) tags.Add("test/accuracy");
        if (validation) tags.Add("validation/accuracy");
        return tags;
    }

    /// <summary>The recipe's hyper-parameters as TensorBoard records them (<c>train.*</c>).</summary>
    public static KeyValuePair<string, object?>[] RecipeHParams(TrainConfig c) =>
    [
        new("train.epochs", c.Epochs), new("train.batch_size", c.BatchSize), new("train.lr", c.LearningRate),
        new("train.momentum", c.Momentum), new("train.nesterov", c.Nesterov), new("train.weight_decay", c.WeightDecay),
        new("train.schedule", c.Schedule), new("train.augment", c.Augment), new("train.max_steps", c.MaxSteps),
    ];

    /// <summary>Batch-mean cross-entropy (classification) or mean squared error (regression).</summary>
    public static Tensor Loss(Tensor output, Tensor target, TaskKind kind) => kind == TaskKind.Classification
        ? nn.functional.cross_entropy(output, target)
        : nn.functional.mse_loss(output, target);

    /// <summary>Mean loss and accuracy (null for regression) over a whole dataset, in eval mode, without gradients.</summary>
    public static (double Loss, double? Accuracy) Evaluate(nn.Module<Tensor, Tensor> model, Dataset data, int batchSize = 1000)
    {
        model.eval();
        using var _ = no_grad();
        double lossSum = 0; long correct = 0;
        var loader = new DataLoader(data, batchSize, shuffle: false, seed: 0);
        foreach (var (x, y) in loader.Epoch(0))
        {
            using var batchX = x;
            using var batchY = y;
            using var scope = NewDisposeScope();
            var output = model.forward(x);
            lossSum += Loss(output, y, data.Kind).item<float>() * x.shape[0];
            if (data.Kind == TaskKind.Classification) correct += output.argmax(1).eq(y).sum().item<long>();
        }
        model.train();
        return (lossSum / data.Count, data.Kind == TaskKind.Classification ? (double)correct / data.Count : null);
    }
}
