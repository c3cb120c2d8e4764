using System.Diagnostics;
using System.Runtime.InteropServices;
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
    // All scores live in one flat parameter (forward order), so a step costs a handful of native calls, not a few per tensor.
    readonly Parameter flat;
    readonly Tensor masks;
    readonly OrderedDictionary<string, (int Offset, int Length)> segments = new(StringComparer.Ordinal);
    readonly OrderedDictionary<string, Tensor> scoreViews = new(StringComparer.Ordinal);
    readonly List<IReadOnlyList<string>> groups;
    readonly List<IReadOnlyList<(int Offset, int Length)>> segmentGroups;
    readonly long[] lengths;
    readonly Dictionary<string, int> index;
    readonly List<(Parameter Parameter, bool RequiresGrad)> frozen = [];
    readonly Sgd sgd;
    bool masksCurrent;
    Tensor[]? straightThrough;
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
        long total = tensors.Sum(t => t.Count);
        if (total > Array.MaxLength) throw new InitPruneException($"edge-popup holds at most {Array.MaxLength} scores, this model has {total}");
        var value = tensors[0].Value;
        Tensor joined;
        using (var scope = NewDisposeScope())
        using (var g = new Generator((ulong)Seeds.For(seed, "edge-popup scores")))
        {
            int offset = 0;
            foreach (var t in tensors)
            {
                segments[t.Name] = (offset, (int)t.Count);
                offset += (int)t.Count;
            }
            joined = cat(tensors.Select(t => InitialScore(t, g, initialScores).flatten()).ToArray()).to(value.dtype, value.device).MoveToOuterDisposeScope();
        }
        using (joined)
            flat = new Parameter(joined.clone(), requires_grad: true);
        flat.DetachFromDisposeScope();
        lengths = [.. tensors.Select(t => t.Count)];
        index = tensors.Select((t, i) => (t.Name, i)).ToDictionary(e => e.Name, e => e.i, StringComparer.Ordinal);
        masks = zeros(total, dtype: value.dtype, device: value.device).DetachFromDisposeScope();
        using (no_grad())
            foreach (var t in tensors)
                scoreViews[t.Name] = View(flat.detach(), t).DetachFromDisposeScope();
        groups = [.. Supermask.Groups(tensors, config.Scope, config.Biases)];
        segmentGroups = [.. groups.Select(g => (IReadOnlyList<(int, int)>)[.. g.Select(name => segments[name])])];
        foreach (var p in model.parameters())
        {
            frozen.Add((p, p.requires_grad));
            p.requires_grad = false;
        }
        sgd = new Sgd([flat], config.Momentum, config.WeightDecay, nesterov: false);
        keptFraction = config.KeptFractionAt(1);
        foreach (var (_, layer) in Network.Layers(model))
        {
            var weight = tensors.Single(t => t.Layer == layer && !t.IsBias);
            var bias = tensors.SingleOrDefault(t => t.Layer == layer && t.IsBias);
            layer.ForwardOverride = () => (Masked(weight), bias is null ? null : Masked(bias));
        }
    }

    public EdgePopupConfig Config { get; }

    /// <summary>The scores by PyTorch name (borrowed views of one flat parameter: they belong to this object).</summary>
    public IReadOnlyDictionary<string, Tensor> Scores => scoreViews;

    /// <summary>The gradient of the last <see cref="Step"/> with respect to the scores of <paramref name="name"/> (a borrowed view), or null before the first step.</summary>
    public Tensor? GradientOf(string name) => flat.grad is { } g ? View(g, tensors.Single(t => t.Name == name)) : null;

    /// <summary>The kept fraction the supermask uses now (<see cref="EdgePopupConfig.KeptFractionAt"/> of the current epoch).</summary>
    public double KeptFraction
    {
        get => keptFraction;
        set
        {
            if (!(value > 0 && value <= 1)) throw new InitPruneException($"kept fraction {value} is impossible: it must be in (0, 1]");
            keptFraction = value;
            masksCurrent = false;
        }
    }

    Tensor View(Tensor flatTensor, PrunableTensor t)
    {
        var (offset, length) = segments[t.Name];
        return flatTensor.narrow(0, offset, length).view(t.Value.shape);
    }

    static Tensor InitialScore(PrunableTensor t, Generator g, IReadOnlyDictionary<string, Tensor>? given)
    {
        if (given is not null)
        {
            if (!given.TryGetValue(t.Name, out var s) || !s.shape.SequenceEqual(t.Value.shape))
                throw new InitPruneException($"the scores must hold '{t.Name}' with shape [{string.Join(",", t.Value.shape)}]");
            using var view = s.detach();
            return view.to(t.Value.dtype, t.Value.device).clone();
        }
        double bound = 1 / Math.Sqrt(t.Layer.FanIn);
        using var u = rand(t.Value.shape, dtype: t.Value.dtype, generator: g);
        return u.mul(2 * bound).sub_(bound).to(t.Value.device);
    }

    /// <summary>
    /// The tensor of the forward pass: value ⊙ m; in a <see cref="Step"/> value ⊙ (m + |s| − detach(|s|)), the
    /// straight-through term (exactly 0) carrying the gradient to s.
    /// </summary>
    Tensor Masked(PrunableTensor t)
    {
        UpdateMasks();
        if (straightThrough is { } m && is_grad_enabled()) return t.Value.mul(m[index[t.Name]].view(t.Value.shape));
        if (!is_grad_enabled()) return t.Value.mul(View(masks, t));
        var a = View(flat, t).abs();
        return t.Value.mul(View(masks, t).add(a.add(a.detach(), Scalars.MinusOne), Scalars.One));
    }

    /// <summary>Recomputes the masks (0/1 in the weights' dtype) after the scores or the kept fraction changed.</summary>
    void UpdateMasks()
    {
        if (masksCurrent) return;
        using var _ = no_grad();
        if (flat.device_type == TorchSharp.DeviceType.CPU && flat.dtype == ScalarType.Float32)
            Supermask.SelectInto(MemoryMarshal.Cast<byte, float>(flat.bytes), MemoryMarshal.Cast<byte, float>(masks.bytes), segmentGroups, keptFraction);
        else
        {
            using var selected = Supermask.Select(scoreViews, groups, keptFraction, masks.dtype);
            foreach (var t in tensors)
                using (var target = View(masks, t))
                    target.copy_(selected[t.Name]);
        }
        masksCurrent = true;
    }

    /// <summary>The supermask at the current kept fraction as an ordinary <see cref="Pruning.Mask"/> (weights and biases), owned by the caller.</summary>
    public Mask Mask()
    {
        using var scope = NewDisposeScope();
        var selected = Supermask.Select(scoreViews, groups, keptFraction);
        foreach (var t in selected.Values) t.DetachFromDisposeScope();
        return new Mask(selected);
    }

    /// <summary>One SGD step of the scores on the batch (<paramref name="x"/>, <paramref name="y"/>) with learning rate <paramref name="lr"/>; returns the batch loss before the step.</summary>
    public double Step(Tensor x, Tensor y, TaskKind kind, double lr)
    {
        using var scope = NewDisposeScope();
        flat.grad?.zero_();
        model.train();
        UpdateMasks();
        var a = flat.abs();
        // split, not narrow: its backward assembles the gradient once instead of padding every part to the full length.
        straightThrough = masks.add(a.add(a.detach(), Scalars.MinusOne), Scalars.One).split(lengths);
        double value;
        try
        {
            var loss = Trainer.Loss(model.forward(x), y, kind);
            value = loss.item<float>();
            if (!double.IsFinite(value))
                throw new DivergenceException($"edge-popup diverged: loss is {value} (learning rate {lr:g4}); lower --lr or check the initialization");
            loss.backward();
        }
        finally
        {
            straightThrough = null;
        }
        sgd.Step(lr);
        masksCurrent = false;
        return value;
    }

    /// <summary>The scores' SGD momentum buffer (one, for the flat score vector in <see cref="Scores"/> order; null before the first step); borrowed.</summary>
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
        sgd.Dispose();
        foreach (var v in scoreViews.Values) v.Dispose();
        masks.Dispose();
        flat.Dispose();
    }
}
