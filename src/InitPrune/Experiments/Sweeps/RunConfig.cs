using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Training;

namespace InitPrune.Experiments.Sweeps;

// The five sections of a run. Each constructor parameter declares one option once ([Opt]: help, range, source);
// the CLI options, the spec schema, validation, normalization, the run hash and docs/specs.md derive from them.

/// <summary>Which data a run trains on. Subsets take the first N samples; <see cref="Validation"/> holds out the last N training samples.</summary>
public sealed record DataSettings(
    [Opt("Dataset: fashion-mnist, mnist, cifar10, cifar100, tiny-imagenet, ellipse, shifted-relu", Cli = "--dataset", NamesFrom = typeof(Data.DatasetRegistry))] string Name = "fashion-mnist",
    [Opt("Train on the first N training samples only (default: all)", Min = 1)] int? TrainSubset = null,
    [Opt("Evaluate on the first N test samples only (default: all)", Min = 1)] int? TestSubset = null,
    [Opt("Hold out the last N training samples as a validation set", Min = 0)] int Validation = 0,
    [Opt("Data augmentation of images: none, or crop-flip (random crop with 4-pixel zero padding and horizontal flip, seeded)", NamesFrom = typeof(TrainConfig), NamesMember = nameof(TrainConfig.Augmentations))] string Augment = "none");

/// <summary>The network (see <see cref="ModelSpec"/>); <see cref="Depth"/> and <see cref="Width"/> are null for named architectures.</summary>
public sealed record ModelSettings(
    [Opt("Model: mlp (depth × width), lenet300 (784-300-100-10), vcnn (depth 3×3 convs of width channels, global pooling), conv2|conv4|conv6|conv8 (Frankle and Carbin's Conv-n, seed 004's edge-popup nets), vgg11|vgg13|vgg16|vgg19, 3xvgg16 and seed 002's vgg5|vgg15|vgg25|vgg35 (each optionally -bn), resnetN (CIFAR, N = 6n+2: resnet20, 32, 44, 56, 110, ...)", Cli = "--model", NamesFrom = typeof(ModelRegistry))] string Name = "mlp",
    [Opt("Hidden layers of an mlp, convolutions of a vcnn", Min = 0, For = "mlp vcnn")] int? Depth = 2,
    [Opt("Width of every hidden layer of an mlp, channels of a vcnn", Min = 1, For = "mlp vcnn")] int? Width = 100,
    [Opt("Activation φ: relu, tanh, elu, leaky_relu, selu, gelu, softplus, sigmoid, linear", NamesFrom = typeof(Activations))] string Activation = "relu",
    [Opt("Build layers without biases", Negated = true)] bool Bias = true,
    [Opt("Padding of the 3×3 convolutions", NamesFrom = typeof(Paddings), Cite = "seed 001 App. (delta-orthogonal, circular)", For = "vcnn conv* vgg* 3xvgg* resnet*")] string Padding = "zeros",
    [Opt("Multiplies every hidden width / channel count (the seeds use 2 for ResNets)", Min = 0, MinOpen = true)] double WidthMultiplier = 1.0,
    [Opt("Stable ResNet: scale every residual branch by 1/sqrt(number of blocks)", Cite = "seed 001 Eq. 9")] bool Stable = false,
    [Opt("ResNet shortcut where the shape changes: A (zero-padded identity) or B (1×1 convolution)", Choices = ["A", "B"], Cite = "He et al. 2016", For = "resnet*")] string Shortcut = "B")
{
    /// <summary>The library's spec; <paramref name="widths"/> (explicit hidden widths) overrides depth × width.</summary>
    public ModelSpec ToSpec(long[]? widths = null) => new(Name, Depth ?? new ModelSpec().Depth, Width ?? new ModelSpec().Width, widths, Activation, Bias,
        Padding, WidthMultiplier, Stable, Enum.Parse<ShortcutKind>(Shortcut, ignoreCase: true));
}

/// <summary>The initialization (see <see cref="InitSpec"/>).</summary>
public sealed record InitSettings(
    [Opt("Initialization (see --help of prune for each scheme)", Cli = "--init", NamesFrom = typeof(Initializers))] string Name = "normal",
    [Opt("σ_w: W ~ N(0, σ_w²/fan_in) for normal, orthogonal (gain), correlated, slt-*; eoc computes it; default √2, ReLU's Edge of Chaos", Min = 0, Cite = "seed 001 §2")] double SigmaW = 1.4142135623730951,
    [Opt("σ_b: biases ~ N(0, σ_b²) (also picks the Edge of Chaos for eoc)", Min = 0, Cite = "seed 001 §2")] double SigmaB = 0.0,
    [Opt("Set every bias to 0 after initializing (any --init)")] bool ZeroBias = false,
    [Opt("η of init correlated: W = W_ind + η·w with one shared w per layer", Min = 0, Cite = "seed 002 App. F", For = "correlated")] double Eta = 0.0)
{
    /// <summary>The library's spec; <paramref name="activation"/> is φ, which eoc needs.</summary>
    public InitSpec ToSpec(string activation) => new(Name, SigmaW, SigmaB, ZeroBias, Eta, activation);
}

/// <summary>Pruning at initialization; <see cref="Options"/> holds the method's own options (<see cref="MethodInfo.Options"/>). A dense run (sparsity 0) is normalized to method <c>none</c>.</summary>
[JsonConverter(typeof(PruneSettingsJson))]
public sealed record PruneSettings(
    [Opt("Pruning method (see docs/methods.md)", Cli = "--method")] string Method = "none",
    [Opt("Fraction of prunable weights removed (0.9 keeps 10%)", Min = 0, Max = 1, MaxOpen = true)] double Sparsity = 0.0,
    [Opt("global (one threshold over all layers) or layer-wise (each layer keeps the same fraction)", Choices = ["global", "layer-wise"], Aliases = ["layerwise=layer-wise", "layer_wise=layer-wise", "layer=layer-wise"])] string Scope = "global",
    [Opt("Rescale kept weights after pruning: none; eoc (seed 001 Prop. 1, each unit's kept squared norm back to its dense value, folded into the weights); eoc-fixed (the same factors kept as fixed multipliers during training); eoc-unit (to 1, Algorithm 1 as written); eoc-sigma-w (to σ_w²); random ((1−s)^(−1/2), seed 002); magnitude (t_n, seed 002)")] string Rescale = "none",
    [Opt("Mini-batch size of data-driven scores (SNIP, GraSP)", Min = 1)] int ScoreBatchSize = 100,
    MethodOptions? Options = null,
    [Opt("Prune biases too", Since = 3)] bool IncludeBiases = false,
    [Opt("Mini-batches of data-driven scores (SNIP, GraSP): the loss is their mean (Synaptic-Flow's --prune-dataset-ratio r is ceil(r × classes / score_batch_size))", Min = 1, Since = 3)] int ScoreBatches = 1,
    [Opt("BatchNorm while scoring: train (batch statistics) or eval (running statistics; Synaptic-Flow's default)", Choices = ["train", "eval"], Since = 3)] string ScoreBn = "train",
    [Opt("Kept count: stable (exactly round((1 − s)N), ties to the earlier entry) or reference (Synaptic-Flow: prune every score ≤ the int(sN)-th smallest, ties included)", Choices = ["stable", "reference"], Since = 3)] string KeepRule = "stable",
    [Opt("Prune the first masked layer (false: keep it dense, out of the count)", Negated = true, Since = 3)] bool PruneFirst = true,
    [Opt("Prune the last masked layer, the classifier (false: Synaptic-Flow's --dense-classifier)", Negated = true, Since = 3)] bool PruneLast = true,
    [Opt("Ablation of the mask: none, shuffle (permute each layer's mask, seeded), reinit (kept weights drawn afresh from the initialization), invert (keep the lowest scores)", Choices = ["none", "shuffle", "reinit", "invert"], Cite = "Frankle et al. 2021 §5", Since = 3)] string Ablation = "none",
    [Opt("Prune every BatchNorm's scale γ too (and its shift β with include_biases), scored by the method like the other tensors", Cite = "Synaptic-Flow --prune-batchnorm", Since = 3)] bool PruneBatchnorm = false,
    [Opt("σ_w whose square rescale eoc-sigma-w restores each unit's kept squared norm to (default: the σ_w the initialization draws with, e.g. eoc's Edge-of-Chaos value)", Min = 0, MinOpen = true, Since = 3)] double? RescaleSigmaW = null)
{
    /// <summary>The method's options, never null.</summary>
    public MethodOptions MethodOptions => Options ?? MethodOptions.Default;

    public PruneScope ScopeKind => Scope == "layer-wise" ? PruneScope.LayerWise : PruneScope.Global;

    /// <summary>The σ_w of the eoc-sigma-w target: <see cref="RescaleSigmaW"/>, else the initialization's; refused with any other rescaling.</summary>
    double? TargetSigmaW(InitSpec init) =>
        RescaleSigmaW is { } given
            ? Rescale == "eoc-sigma-w" ? given : throw new InitPruneException($"prune.rescale_sigma_w sets the target of rescale eoc-sigma-w, but rescale is '{Rescale}': drop rescale_sigma_w or use rescale eoc-sigma-w")
            : init.DrawnSigmaW;

    /// <summary>The library's spec; <paramref name="init"/> reaches the methods and rescalings that read the initialization.</summary>
    public PruneSpec ToSpec(InitSpec init) =>
        new(Method, Sparsity, ScopeKind, IncludeBiases,
            (Method == "none" ? MethodOptions : MethodOptions.Complete(PrunerRegistry.Get(Method))).WithInit(init), RescaleSpec.Parse(Rescale, TargetSigmaW(init)),
            Enum.Parse<Pruning.KeepRule>(KeepRule, ignoreCase: true), Enum.Parse<ScoreBatchNorm>(ScoreBn, ignoreCase: true), PruneFirst, PruneLast,
            Enum.Parse<Pruning.Ablation>(Ablation, ignoreCase: true), PruneBatchnorm);

    /// <summary>
    /// The settings of a library spec (the inverse of <see cref="ToSpec"/>, the method's options as given, without the
    /// initialization); the score batch size and count travel beside the spec. <paramref name="init"/> tells an
    /// eoc-sigma-w target the initialization implies from one given explicitly (<see cref="RescaleSigmaW"/>).
    /// </summary>
    public static PruneSettings FromSpec(PruneSpec spec, int scoreBatchSize, int scoreBatches, InitSpec? init = null) =>
        new(spec.Method, spec.Sparsity, spec.Scope == PruneScope.LayerWise ? "layer-wise" : "global", spec.Rescale?.Name ?? "none", scoreBatchSize,
            spec.Options is { } o ? new MethodOptions(o.Values) : null, spec.IncludeBiases, scoreBatches, Lower(spec.ScoreBatchNorm), Lower(spec.KeepRule),
            spec.PruneFirst, spec.PruneLast, Lower(spec.Ablation), spec.PruneBatchNorm,
            spec.Rescale is { Target: RescaleTarget.SigmaW2, SigmaW: { } w } && w != init?.DrawnSigmaW ? w : null);

    static string Lower(Enum value) => value.ToString().ToLowerInvariant();

    /// <summary>
    /// Every declared option with its value, then the method's options (given or default), keyed as spec fields
    /// (<c>prune.&lt;key&gt;</c>): how a mask was made.
    /// </summary>
    public Dictionary<string, object?> Declared()
    {
        var values = Param.ValuesOf(this);
        if (PrunerRegistry.Names.Contains(Method))
            foreach (var (key, value) in MethodOptions.Complete(PrunerRegistry.Get(Method)).Values) values.TryAdd(key, value);
        return values;
    }

    public bool Equals(PruneSettings? other) =>
        other is not null && Method == other.Method && Sparsity.Equals(other.Sparsity) && Scope == other.Scope && Rescale == other.Rescale
        && ScoreBatchSize == other.ScoreBatchSize && IncludeBiases == other.IncludeBiases && CompleteOptions.Equals(other.CompleteOptions)
        && ScoreBatches == other.ScoreBatches && ScoreBn == other.ScoreBn && KeepRule == other.KeepRule && PruneFirst == other.PruneFirst
        && PruneLast == other.PruneLast && Ablation == other.Ablation && PruneBatchnorm == other.PruneBatchnorm;

    /// <summary>Every option of a known method (an option left out equals it at its default); the given ones otherwise.</summary>
    MethodOptions CompleteOptions => PrunerRegistry.Names.Contains(Method) ? MethodOptions.Complete(PrunerRegistry.Get(Method)) : MethodOptions;

    public override int GetHashCode() => HashCode.Combine(HashCode.Combine(Method, Sparsity, Scope, Rescale, ScoreBatchSize, IncludeBiases, CompleteOptions),
        HashCode.Combine(ScoreBatches, ScoreBn, KeepRule, PruneFirst, PruneLast, Ablation, PruneBatchnorm));
}

/// <summary>
/// The SGD recipe. <see cref="Milestones"/> are fractions of training (the seeds' ×0.1 at 1/2 and 3/4);
/// <see cref="MaxSteps"/>, when set, stops training after that many optimizer steps (the seeds' "10k iterations").
/// </summary>
public sealed record TrainSettings(
    [Opt("Learning rate", Min = 0, MinOpen = true)] double Lr = 0.1,
    [Opt("SGD momentum", Min = 0, Max = 1, MaxOpen = true)] double Momentum = 0.9,
    [Opt("Nesterov momentum (needs momentum > 0)")] bool Nesterov = false,
    [Opt("L2 weight decay", Min = 0)] double WeightDecay = 0.0,
    [Opt("Learning-rate schedule: none, step (× gamma at each milestone), cosine", NamesFrom = typeof(TrainConfig), NamesMember = nameof(TrainConfig.Schedules))] string Schedule = "none",
    [Opt("Fractions of training at which the step schedule multiplies the rate by gamma (default 0.5, 0.75)", Min = 0, MinOpen = true, Max = 1)] double[]? Milestones = null,
    [Opt("Factor of the step schedule", Min = 0, MinOpen = true)] double Gamma = 0.1,
    [Opt("Epochs (0 in a spec: prune only)", Min = 0)] int Epochs = 1,
    [Opt("Stop after this many optimizer steps (default: whole epochs)", Min = 1)] int? MaxSteps = null,
    [Opt("Mini-batch size", Min = 1)] int BatchSize = 100,
    [Opt("Optimizer: sgd (momentum, nesterov), adam, adamw (beta1, beta2, eps; adamw decays weights decoupled, θ ← θ(1 − η·weight_decay)), rmsprop (rmsprop_alpha, eps; no momentum, not centered) — torch.optim's updates", NamesFrom = typeof(Optimizers), Cite = "torch.optim; Synaptic-Flow --optimizer", Since = 3)] string Optimizer = "sgd",
    [Opt("Adam(W)'s β₁ (decay of the gradient's running mean)", Min = 0, Max = 1, MaxOpen = true, Cite = "Kingma & Ba 2015", Since = 3)] double Beta1 = 0.9,
    [Opt("Adam(W)'s β₂ (decay of the squared gradient's running mean)", Min = 0, Max = 1, MaxOpen = true, Cite = "Kingma & Ba 2015", Since = 3)] double Beta2 = 0.999,
    [Opt("ε added to the root-mean-square denominator of adam, adamw and rmsprop", Min = 0, MinOpen = true, Since = 3)] double Eps = 1e-8,
    [Opt("RMSprop's smoothing constant α (decay of the squared gradient's running mean)", Min = 0, Max = 1, MaxOpen = true, Cite = "torch.optim.RMSprop alpha", Since = 3)] double RmspropAlpha = 0.99,
    [Opt("Label smoothing ε of the training cross-entropy: targets (1 − ε)·one-hot + ε/classes, as torch's cross_entropy(label_smoothing=); test and validation losses stay plain", Min = 0, Max = 1, Cite = "Szegedy et al. 2016", Since = 3)] double LabelSmoothing = 0.0,
    [Opt("Linear warm-up over the first N optimizer steps: step t (0-based) uses the scheduled rate × min(1, t/N), as open_lth's warmup_steps (so the first step has rate 0)", Min = 0, Cite = "open_lth --warmup_steps; Goyal et al. 2017", Since = 3)] int WarmupSteps = 0,
    [Opt("Train N epochs with this recipe before pruning (pruning early rather than at initialization), prune the trained weights, then train epochs more from them with a fresh optimizer and schedule", Min = 0, Cite = "Synaptic-Flow --pre-epochs", Since = 3)] int PreEpochs = 0,
    [Opt("Record the Jacobian norm ‖J‖ (mean ± std over jacobian_inputs fixed test inputs) at step 0, before any update, and after every K-th optimizer step; 0: off. With epochs 0 only step 0 is recorded", Min = 0, Cite = "seed 002 §3–4, Figs. 1, 2", Since = 3)] int JacobianEvery = 0,
    [Opt("Test inputs (drawn once from the seed) over which each recorded ‖J‖ is averaged", Min = 1, Cite = "seed 002 Fig. 2", Since = 3)] int JacobianInputs = 8,
    [Opt("Which Jacobian is tracked: hidden (J_1 = ∂Y_L/∂Y_0, hidden pre-activation to hidden pre-activation) or full (∂output/∂input)", Choices = ["hidden", "full"], Cite = "seed 002 Eq. 1", Since = 3)] string JacobianSpan = "hidden")
{
    /// <summary>The recipe of the training before pruning (<see cref="PreEpochs"/> epochs, milestone fractions of them), or null without it.</summary>
    public TrainConfig? PreTrainConfig(string augment = "none") => PreEpochs > 0 ? (this with { Epochs = PreEpochs, MaxSteps = null }).ToConfig(augment) : null;

    /// <summary>The trainer's recipe; milestone fractions become epochs (at least epoch 1).</summary>
    public TrainConfig ToConfig(string augment = "none", string? tensorBoardDir = null) => new(Epochs, BatchSize, Lr, Momentum, Nesterov,
        WeightDecay, Schedule,
        Milestones is { } f ? [.. f.Select(x => Math.Max(1, (int)Math.Round(x * Epochs)))] : null,
        Gamma, TensorBoardDir: tensorBoardDir, Augment: augment, MaxSteps: MaxSteps, Optimizer: Optimizer, Beta1: Beta1, Beta2: Beta2,
        Eps: Eps, RmspropAlpha: RmspropAlpha, LabelSmoothing: LabelSmoothing, WarmupSteps: WarmupSteps,
        JacobianEvery: JacobianEvery, JacobianInputs: JacobianInputs, JacobianSpan: JacobianSpan);
}

/// <summary>
/// One fully specified run: every hyper-parameter after defaults and normalization. Its <see cref="Id"/> is a
/// hash of that normalized form (as in open_lth), so the same settings always name the same run and results
/// are stored under the settings that produced them.
/// </summary>
public sealed record RunConfig(DataSettings Data, ModelSettings Model, InitSettings Init, PruneSettings Prune, TrainSettings Train, long Seed)
{
    static readonly JsonSerializerOptions Canonical = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = false,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver { Modifiers = { OmitNewDefaults } },
    };

    /// <summary>Options added after the first store schema (<see cref="OptAttribute.Since"/>) are left out at their default.</summary>
    static void OmitNewDefaults(System.Text.Json.Serialization.Metadata.JsonTypeInfo info)
    {
        if (info.Type == typeof(PruneSettings) || info.Kind != System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object) return;
        if (info.Type != typeof(DataSettings) && info.Type != typeof(ModelSettings) && info.Type != typeof(InitSettings) && info.Type != typeof(TrainSettings)) return;
        var declared = Param.Of(info.Type).ToDictionary(p => p.Key);
        foreach (var property in info.Properties)
            if (declared.TryGetValue(property.Name, out var p) && p.Since > 1)
                property.ShouldSerialize = (_, value) => p.InId(value);
    }

    /// <summary>The canonical JSON of the run (property order fixed by declaration, numbers round-trip).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Canonical);

    public static RunConfig FromJson(string json) =>
        JsonSerializer.Deserialize<RunConfig>(json, Canonical) ?? throw new Engine.InitPruneException("a stored run has empty settings: the results store is corrupt");

    /// <summary>First 16 hex digits of SHA-256 of <see cref="ToJson"/>.</summary>
    [JsonIgnore]
    public string Id => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToJson())))[..16];

    public ModelSpec ToModelSpec() => Model.ToSpec();

    public InitSpec ToInitSpec() => Init.ToSpec(Model.Activation);

    public PruneSpec ToPruneSpec() => Prune.ToSpec(ToInitSpec());

    /// <summary>The trainer's recipe; milestone fractions become epochs (at least epoch 1).</summary>
    public TrainConfig ToTrainConfig(string? tensorBoardDir = null) => Train.ToConfig(Data.Augment, tensorBoardDir);

    /// <summary>The recipe of the training before pruning, or null (<see cref="TrainSettings.PreEpochs"/> 0).</summary>
    public TrainConfig? ToPreTrainConfig() => Train.PreTrainConfig(Data.Augment);
}

/// <summary>
/// The prune section's canonical JSON: its own fields (those added later, <see cref="OptAttribute.Since"/>, only when
/// not at their default), then the method's options, flat. The five options of store schema ≤ 2 (iterations,
/// temperature, alpha, rounds, round_epochs) are always written, at their defaults when the method has none, so the
/// ids of runs stored before stay valid; any later option is written only when it differs from its default, so
/// declaring a new option changes no existing id (open_lth's rule for new hyper-parameters). A method that declares an
/// always-written option later, with a default of its own (multi-shot SNIP/GraSP's iterations, 1), writes the
/// placeholder at its default and otherwise its value plus <c>"multi_shot": true</c>, which tells the two apart.
/// </summary>
internal sealed class PruneSettingsJson : JsonConverter<PruneSettings>
{
    static readonly Param[] AlwaysWritten =
        [SynFlowScorer.Iterations, GraspScorer.Temperature, Seed003Method.Alpha, IterativeMagnitudePruning.Rounds, IterativeMagnitudePruning.RoundEpochs];

    const string MultiShot = "multi_shot";

    /// <summary>The method's own declaration of an always-written option when its default differs from the placeholder.</summary>
    static Param? OwnDefault(string method, Param legacy) =>
        PrunerRegistry.Methods.FirstOrDefault(m => m.Name == method)?.Options.FirstOrDefault(p => p.Key == legacy.Key && !Equals(p.Default, legacy.Default));

    public override void Write(Utf8JsonWriter writer, PruneSettings value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (key, v) in Param.ValuesOf(value))
            if (Fields[key].InId(v)) WriteOption(writer, key, v);
        bool multiShot = false;
        foreach (var legacy in AlwaysWritten)
        {
            var v = value.MethodOptions.Get(legacy);
            if (OwnDefault(value.Method, legacy) is { } own)
            {
                v = value.MethodOptions.Get(own);
                if (Equals(v, own.Default)) v = legacy.Default;
                else multiShot = true;
            }
            WriteOption(writer, legacy.Key, v);
        }
        foreach (var p in PrunerRegistry.AllOptions.Where(p => !AlwaysWritten.Any(a => a.Key == p.Key)))
            if (value.MethodOptions.Values.TryGetValue(p.Key, out var v) && !Equals(v, p.Default)) WriteOption(writer, p.Key, v);
        if (multiShot) writer.WriteBoolean(MultiShot, true);
        writer.WriteEndObject();
    }

    static readonly Dictionary<string, Param> Fields = Param.Of(typeof(PruneSettings)).ToDictionary(p => p.Key);

    static void WriteOption(Utf8JsonWriter writer, string key, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNull(key); break;
            case int i: writer.WriteNumber(key, i); break;
            case double d: writer.WriteNumber(key, d); break;
            case bool b: writer.WriteBoolean(key, b); break;
            case double[] a:
                writer.WriteStartArray(key);
                foreach (var x in a) writer.WriteNumberValue(x);
                writer.WriteEndArray();
                break;
            default: writer.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)); break;
        }
    }

    public override PruneSettings Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        var o = doc.RootElement;
        var method = o.GetProperty("method").GetString()!;
        // A method this version does not know (a damaged or newer store) keeps every option it holds.
        var declared = PrunerRegistry.Methods.FirstOrDefault(m => m.Name == method)?.Options ?? (method == "none" ? [] : PrunerRegistry.AllOptions);
        var values = new List<KeyValuePair<string, object>>();
        var fields = new Dictionary<string, object?>();
        bool multiShot = o.TryGetProperty(MultiShot, out var marker) && marker.ValueKind == JsonValueKind.True;
        foreach (var property in o.EnumerateObject())
        {
            if (Fields.TryGetValue(property.Name, out var field))
            {
                fields[field.Key] = ReadValue(field, property.Value);
                continue;
            }
            var p = declared.FirstOrDefault(p => p.Key == property.Name);
            if (p is null) continue;
            // Without the marker, the slot of an option with the method's own default holds only the placeholder.
            if (!multiShot && AlwaysWritten.FirstOrDefault(a => a.Key == p.Key) is { } legacy && OwnDefault(method, legacy) is not null) continue;
            values.Add(new(p.Key, ReadValue(p, property.Value)!));
        }
        // An option left out at its default (declared after the first store schema) reads back as its default, as a spec gives it.
        if (PrunerRegistry.Methods.Any(m => m.Name == method))
            foreach (var p in declared.Where(p => p.Default is not null && values.All(v => v.Key != p.Key)))
                values.Add(new(p.Key, p.Default!));
        return (PruneSettings)Param.Build(typeof(PruneSettings), fields, _ => new MethodOptions(values));
    }

    static object? ReadValue(Param p, JsonElement value) => value.ValueKind == JsonValueKind.Null ? null : p.Kind switch
    {
        ParamKind.Integer => value.GetInt32(),
        ParamKind.Number => value.GetDouble(),
        ParamKind.Flag => value.GetBoolean(),
        ParamKind.Numbers => value.EnumerateArray().Select(x => x.GetDouble()).ToArray(),
        _ => value.GetString(),
    };
}
