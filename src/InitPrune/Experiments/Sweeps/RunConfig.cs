using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Training;

namespace InitPrune.Experiments.Sweeps;

/// <summary>Which data a run trains on. Subsets take the first N samples; <see cref="Validation"/> holds out the last N training samples.</summary>
public sealed record DataSettings(
    string Name = "fashion-mnist",
    int? TrainSubset = null,
    int? TestSubset = null,
    int Validation = 0,
    string Augment = "none");

/// <summary>The network (see <see cref="ModelSpec"/>); <see cref="Depth"/> and <see cref="Width"/> are null for named architectures.</summary>
public sealed record ModelSettings(
    string Name = "mlp",
    int? Depth = 2,
    int? Width = 100,
    string Activation = "relu",
    bool Bias = true,
    string Padding = "zeros",
    double WidthMultiplier = 1.0,
    bool Stable = false,
    string Shortcut = "B");

/// <summary>The initialization (see <see cref="InitSpec"/>).</summary>
public sealed record InitSettings(
    string Name = "normal",
    double SigmaW = 1.4142135623730951,
    double SigmaB = 0.0,
    bool ZeroBias = false,
    double Eta = 0.0);

/// <summary>Pruning at initialization. A dense run (sparsity 0) is normalized to method <c>none</c>.</summary>
public sealed record PruneSettings(
    string Method = "none",
    double Sparsity = 0.0,
    string Scope = "global",
    string Rescale = "none",
    int ScoreBatchSize = 100,
    int Iterations = 100,
    double Temperature = 200,
    double Alpha = 0.5,
    int Rounds = 3,
    int RoundEpochs = 1);

/// <summary>
/// The SGD recipe. <see cref="Milestones"/> are fractions of training (the seeds' ×0.1 at 1/2 and 3/4);
/// <see cref="MaxSteps"/>, when set, stops training after that many optimizer steps (the seeds' "10k iterations").
/// </summary>
public sealed record TrainSettings(
    double Lr = 0.1,
    double Momentum = 0.9,
    bool Nesterov = false,
    double WeightDecay = 0.0,
    string Schedule = "none",
    double[]? Milestones = null,
    double Gamma = 0.1,
    int Epochs = 1,
    int? MaxSteps = null,
    int BatchSize = 100);

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
    };

    /// <summary>The canonical JSON of the run (property order fixed by declaration, numbers round-trip).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Canonical);

    public static RunConfig FromJson(string json) =>
        JsonSerializer.Deserialize<RunConfig>(json, Canonical) ?? throw new Engine.InitPruneException("a stored run has empty settings: the results store is corrupt");

    /// <summary>First 16 hex digits of SHA-256 of <see cref="ToJson"/>.</summary>
    [JsonIgnore]
    public string Id => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToJson())))[..16];

    public ModelSpec ToModelSpec() => new(Model.Name, Model.Depth ?? 2, Model.Width ?? 100, null, Model.Activation, Model.Bias, Model.Padding,
        Model.WidthMultiplier, Model.Stable, Enum.Parse<ShortcutKind>(Model.Shortcut, ignoreCase: true));

    public InitSpec ToInitSpec() => new(Init.Name, Init.SigmaW, Init.SigmaB, Init.ZeroBias, Init.Eta, Model.Activation);

    public PruneSpec ToPruneSpec() => new(Prune.Method, Prune.Sparsity,
        Prune.Scope == "layer-wise" ? PruneScope.LayerWise : PruneScope.Global, false,
        new MethodOptions(Prune.Temperature, Prune.Iterations, Prune.Alpha, Init.SigmaW, Init.SigmaB, Model.Activation),
        RescaleSpec.Parse(Prune.Rescale, Init.SigmaW));

    /// <summary>The trainer's recipe; milestone fractions become epochs (at least epoch 1).</summary>
    public TrainConfig ToTrainConfig(string? tensorBoardDir = null) => new(Train.Epochs, Train.BatchSize, Train.Lr, Train.Momentum, Train.Nesterov,
        Train.WeightDecay, Train.Schedule,
        Train.Milestones is { } f ? [.. f.Select(x => Math.Max(1, (int)Math.Round(x * Train.Epochs)))] : null,
        Train.Gamma, TensorBoardDir: tensorBoardDir, Augment: Data.Augment, MaxSteps: Train.MaxSteps);
}
