using System.Diagnostics;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Tickets;

/// <summary>One epoch of edge-popup: the kept fraction ρ_i it ran at, its learning rate, the λ fitted after it (1 when unscaled) and its losses.</summary>
public sealed record TicketEpoch(
    int Epoch,
    double KeptFraction,
    double LearningRate,
    double Lambda,
    double Scale,
    double TrainLoss,
    double TestLoss,
    double? TestAccuracy,
    double Seconds);

/// <summary>
/// Edge-popup (Ramanujan et al. 2020) with seed 004's extensions (§3, §5): a score per weight and per bias of every
/// masked layer; the weights and biases stay frozen at their initialization (no gradient reaches them); the forward pass
/// uses W ⊙ m(|s_W|) and b ⊙ m(|s_b|), m the top-k of <see cref="Supermask"/>; the backward pass is straight-through
/// (the mask's gradient reaches |s| unchanged, and s through |·|); only the scores are optimized, with SGD (momentum,
/// weight decay, cosine learning rate per epoch). While it lives the model computes with the supermask; disposing it
/// restores the plain layers.
/// </summary>
public sealed class EdgePopup : IDisposable
{
    readonly nn.Module<Tensor, Tensor> model;
    readonly List<PrunableTensor> tensors;
    readonly OrderedDictionary<string, Parameter> scores = new(StringComparer.Ordinal);
    readonly List<IReadOnlyList<string>> groups;
    readonly List<(Parameter Parameter, bool RequiresGrad)> frozen = [];
    readonly Sgd sgd;
    TensorDict? masks;
    double keptFraction;

    /// <summary>
    /// Attaches edge-popup to <paramref name="model"/>. Scores are drawn as the reference does (Kaiming-uniform with
    /// a = √5: U(−1/√fan_in, 1/√fan_in), fan_in of the layer, for its bias scores too) from <paramref name="seed"/>, or
    /// copied from <paramref name="initialScores"/> (one tensor per weight and bias, by PyTorch name).
    /// </summary>
    public EdgePopup(nn.Module<Tensor, Tensor> model, EdgePopupConfig config, long seed, IReadOnlyDictionary<string, Tensor>? initialScores = null)
    {
        config.Validate();
        Config = config;
        this.model = model;
        tensors = Network.Prunable(model, includeBiases: true);
        if (tensors.Count == 0) throw new InitPruneException("edge-popup needs a model with linear or convolutional layers");
        if (tensors.Any(t => t.Mask is not null))
            throw new InitPruneException("edge-popup starts from a dense network, but this model already carries a mask");
        groups = [.. Supermask.Groups(tensors, config.Scope, config.Biases)];
        using (var g = new Generator((ulong)Seeds.For(seed, "edge-popup scores")))
            foreach (var t in tensors)
                scores[t.Name] = new Parameter(InitialScore(t, g, initialScores), requires_grad: true);
        foreach (var p in model.parameters())
        {
            frozen.Add((p, p.requires_grad));
            p.requires_grad = false;
        }
        sgd = new Sgd([.. scores.Values], config.Momentum, config.WeightDecay, nesterov: false);
        keptFraction = config.KeptFractionAt(1);
        foreach (var (_, layer) in Network.Layers(model))
        {
            var weight = tensors.Single(t => t.Layer == layer && !t.IsBias);
            var bias = tensors.SingleOrDefault(t => t.Layer == layer && t.IsBias);
            layer.ForwardOverride = () => (Masked(weight), bias is null ? null : Masked(bias));
        }
    }

    public EdgePopupConfig Config { get; }

    /// <summary>The scores by PyTorch name (borrowed: they belong to this object).</summary>
    public IReadOnlyDictionary<string, Parameter> Scores => scores;

    /// <summary>The kept fraction the supermask uses now (<see cref="EdgePopupConfig.KeptFractionAt"/> of the current epoch).</summary>
    public double KeptFraction
    {
        get => keptFraction;
        set
        {
            if (!(value > 0 && value <= 1)) throw new InitPruneException($"kept fraction {value} is impossible: it must be in (0, 1]");
            keptFraction = value;
            Invalidate();
        }
    }

    static Tensor InitialScore(PrunableTensor t, Generator g, IReadOnlyDictionary<string, Tensor>? given)
    {
        if (given is not null)
        {
            if (!given.TryGetValue(t.Name, out var s) || !s.shape.SequenceEqual(t.Value.shape))
                throw new InitPruneException($"the scores must hold '{t.Name}' with shape [{string.Join(",", t.Value.shape)}]");
            using var view = s.detach();
            return view.to(t.Value.dtype, t.Value.device).clone().DetachFromDisposeScope();
        }
        double bound = 1 / Math.Sqrt(((MaskedLayer)t.Layer).FanIn);
        using var u = rand(t.Value.shape, dtype: t.Value.dtype, generator: g);
        return u.mul(2 * bound).sub_(bound).to(t.Value.device).DetachFromDisposeScope();
    }

    /// <summary>The tensor of the forward pass: value ⊙ m, with the straight-through term |s| − detach(|s|) (exactly 0) carrying the gradient to s.</summary>
    Tensor Masked(PrunableTensor t)
    {
        var m = CurrentMasks()[t.Name];
        if (!is_grad_enabled()) return t.Value.mul(m);
        // Scalars that stay reachable through the native call (see Scalars): a − detach(a) and m + it, no temporaries.
        var a = scores[t.Name].abs();
        return t.Value.mul(m.add(a.add(a.detach(), Scalars.MinusOne), Scalars.One));
    }

    /// <summary>The masks (0/1 in each tensor's dtype) at the current kept fraction, recomputed after the scores or the fraction changed.</summary>
    TensorDict CurrentMasks()
    {
        if (masks is not null) return masks;
        masks = Supermask.Select(scores.ToDictionary(kv => kv.Key, kv => (Tensor)kv.Value), groups, keptFraction, tensors[0].Value.dtype);
        foreach (var m in masks.Values) m.DetachFromDisposeScope();
        return masks;
    }

    void Invalidate()
    {
        masks?.Dispose();
        masks = null;
    }

    /// <summary>The supermask at the current kept fraction as an ordinary <see cref="Pruning.Mask"/> (weights and biases), owned by the caller.</summary>
    public Mask Mask()
    {
        using var scope = NewDisposeScope();
        var selected = Supermask.Select(scores.ToDictionary(kv => kv.Key, kv => (Tensor)kv.Value), groups, keptFraction);
        foreach (var t in selected.Values) t.DetachFromDisposeScope();
        return new Mask(selected);
    }

    /// <summary>One SGD step of the scores on the batch (<paramref name="x"/>, <paramref name="y"/>) with learning rate <paramref name="lr"/>; returns the batch loss before the step.</summary>
    public double Step(Tensor x, Tensor y, TaskKind kind, double lr)
    {
        using var scope = NewDisposeScope();
        foreach (var s in scores.Values) s.grad?.zero_();
        model.train();
        var loss = Trainer.Loss(model.forward(x), y, kind);
        double value = loss.item<float>();
        if (!double.IsFinite(value))
            throw new DivergenceException($"edge-popup diverged: loss is {value} (learning rate {lr:g4}); lower --lr or check the initialization");
        loss.backward();
        sgd.Step(lr);
        Invalidate();
        return value;
    }

    /// <summary>The scores' SGD momentum buffers, one per score in <see cref="Scores"/> order (null before the first step); borrowed.</summary>
    public IReadOnlyList<Tensor?> Momentum => sgd.State;

    /// <summary>Replaces the momentum buffers by copies of <paramref name="momentum"/> (a resumed search; see <see cref="Momentum"/>).</summary>
    public void RestoreMomentum(IReadOnlyList<Tensor?> momentum) => sgd.Restore(momentum);

    /// <summary>Raised after every epoch, once λ is applied and the test set evaluated.</summary>
    public event Action<TicketEpoch>? EpochEnd;

    /// <summary>
    /// Runs the recipe on <paramref name="data"/>: epoch i at kept fraction <see cref="EdgePopupConfig.KeptFractionAt"/>(i)
    /// and learning rate <see cref="EdgePopupConfig.LearningRateAt"/>(i); with <see cref="EdgePopupConfig.Scaled"/>, after each
    /// epoch λ = <see cref="OutputScale.Fit"/> is spread over the layers (<see cref="OutputScale.Distribute"/>; no rescaling when no λ > 0 fits).
    /// To resume a search stopped after epoch k, build this object with the saved scores (its constructor's
    /// initialScores), the saved weights in the model and <see cref="RestoreMomentum"/>, then pass
    /// <paramref name="fromEpoch"/> k + 1 and <paramref name="scale"/> the cumulative λ after epoch k: batches are drawn
    /// from (seed, epoch), so the resumed epochs equal those of an uninterrupted run bit for bit.
    /// </summary>
    public List<TicketEpoch> Run(DatasetSplit data, long seed, string modelName = "the model", int fromEpoch = 1, double scale = 1)
    {
        if (fromEpoch < 1) throw new InitPruneException($"edge-popup cannot start at epoch {fromEpoch}: epochs count from 1");
        data.Train.RequireSamples("training");
        data.Test.RequireSamples("test");
        var loader = new Data.DataLoader(data.Train, Config.BatchSize, shuffle: true, seed: seed);
        if (Config.Scaled)
        {
            using var probe = data.Train.Inputs.narrow(0, 0, Math.Min(64, data.Train.Count)).to(Compute.Device);
            OutputScale.CheckHomogeneous(model, probe, modelName);
        }
        var history = new List<TicketEpoch>();
        for (int epoch = fromEpoch; epoch <= Config.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            KeptFraction = Config.KeptFractionAt(epoch);
            double lr = Config.LearningRateAt(epoch);
            double lossSum = 0;
            long seen = 0;
            foreach (var (x, y) in loader.Epoch(epoch))
            {
                using var batchX = x;
                using var batchY = y;
                lossSum += Step(x, y, data.Train.Kind, lr) * x.shape[0];
                seen += x.shape[0];
            }
            double lambda = 1;
            if (Config.Scaled && OutputScale.Fit(model, data.Train, Config.EvalBatchSize) is { } fitted)
            {
                lambda = fitted;
                OutputScale.Distribute(model, lambda);
                scale *= lambda;
            }
            var (testLoss, testAccuracy) = Trainer.Evaluate(model, data.Test, Config.EvalBatchSize);
            var result = new TicketEpoch(epoch, KeptFraction, lr, lambda, scale, lossSum / seen, testLoss, testAccuracy, clock.Elapsed.TotalSeconds);
            history.Add(result);
            EpochEnd?.Invoke(result);
        }
        return history;
    }

    public void Dispose()
    {
        foreach (var (_, layer) in Network.Layers(model)) layer.ForwardOverride = null;
        foreach (var (p, requiresGrad) in frozen) p.requires_grad = requiresGrad;
        Invalidate();
        sgd.Dispose();
        foreach (var s in scores.Values) s.Dispose();
    }
}
