using System.Reflection;
using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Theory;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Init;

/// <summary>Initializations by the names users type. All draws come from one generator seeded by the caller.</summary>
public static class Initializers
{
    static readonly Dictionary<string, (string Description, Func<InitSpec, string?, ILayerInit> Create)> Registry = new()
    {
        // Seed 001 §2: W ~ N(0, σw²/fan_in), b ~ N(0, σb²).
        ["normal"] = ("W ~ N(0, sigma_w²/fan_in), b ~ N(0, sigma_b²)", (s, _) => IidInit.Normal(s.SigmaW, s.SigmaB)),
        // Seed 001 §2.2: σw on the Edge of Chaos of the activation for this σb.
        ["eoc"] = ("normal with sigma_w on the Edge of Chaos of the activation for sigma_b", (s, phi) => IidInit.Normal(EdgeOfChaos.SigmaW(phi!, s.SigmaB), s.SigmaB)),
        ["kaiming-normal"] = ("He normal, Var(w) = 2/fan_in", (s, _) => IidInit.Kaiming(false, s.SigmaB)),
        ["kaiming-uniform"] = ("He uniform, U[-√(6/fan_in), √(6/fan_in)]", (s, _) => IidInit.Kaiming(true, s.SigmaB)),
        ["xavier-normal"] = ("Glorot normal, Var(w) = 2/(fan_in + fan_out)", (s, _) => IidInit.Xavier(false, s.SigmaB)),
        ["xavier-uniform"] = ("Glorot uniform, U[-√(6/(fan_in + fan_out)), …]", (s, _) => IidInit.Xavier(true, s.SigmaB)),
        ["orthogonal"] = ("sigma_w·Q, Q orthogonal; delta-orthogonal for convolutions", (s, _) => new OrthogonalInit(s.SigmaW, s.SigmaB)),
        // Seed 004 §3.1: σ_{b,l} = Π_{k≤l} σ_{w,k}.
        ["slt-uniform"] = ("seed 004: w ~ U[-s_l, s_l], s_l = √3·sigma_w/√fan_in, b ~ U[-Π s_k, Π s_k]", (s, _) => ScaledBiasInit.Uniform(s.SigmaW)),
        ["slt-normal"] = ("seed 004: w ~ N(0, s_l²), s_l = sigma_w/√fan_in, b ~ N(0, (Π s_k)²)", (s, _) => ScaledBiasInit.Normal(s.SigmaW)),
        ["slt-he"] = ("seed 004: He normal weights, b ~ N(0, (Π √(2/fan_in_k))²)", (s, _) => ScaledBiasInit.He()),
        // Seed 004 §3.2: W = [[W₀, −W₀], [−W₀, W₀]], b = [b₀; −b₀].
        ["looks-linear"] = ("seed 004: W = [[W0, -W0], [-W0, W0]] with W0 orthogonal, b = [b0; -b0]", (_, _) => new LooksLinearInit()),
        // Seed 002 App. F: W = W_ind + η·w^k.
        ["correlated"] = ("seed 002: W = W_ind + eta·w (one shared w per layer), both N(0, sigma_w²/fan_in)", (s, _) => new CorrelatedInit(s.SigmaW, s.SigmaB, s.Eta)),
    };

    public static readonly IReadOnlyList<string> Names = [.. Registry.Keys];

    /// <summary>One line per initialization: name and what it draws.</summary>
    public static IReadOnlyDictionary<string, string> Descriptions => Registry.ToDictionary(e => e.Key, e => e.Value.Description);

    /// <summary>
    /// Initializes every masked layer in forward order (weight, then bias) from one generator, zeroes the biases when
    /// <see cref="InitSpec.ZeroBias"/>, and sets every BatchNorm to γ = 1, β = 0. The same seed gives the same tensors.
    /// </summary>
    public static void Apply(nn.Module model, InitSpec spec, long seed)
    {
        var scheme = Scheme(model, spec);
        var layers = Network.Layers(model).Select(l => l.Layer).ToList();
        using var gen = new Generator((ulong)seed);
        using var _ = no_grad();
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var (w, b) = scheme.Draw(new InitLayer(i, layers.Count, layer.weight.shape, layer.weight.dtype), gen);
            using (w) using (b)
            {
                layer.weight.copy_(w);
                if (layer.bias is not null)
                {
                    if (spec.ZeroBias) b.zero_();
                    layer.bias.copy_(b);
                }
            }
            layer.EnforceMask();
        }
        foreach (var (_, module) in model.named_modules())
        {
            if (module is not TorchSharp.Modules.BatchNorm bn) continue;
            bn.weight?.fill_(1.0);
            bn.bias?.zero_();
            (bn as IMaskedModule)?.EnforceMask();
        }
    }

    /// <summary>Refuses an impossible or unknown initialization for <paramref name="model"/> without changing its weights.</summary>
    public static void Check(nn.Module model, InitSpec spec) => Scheme(model, spec);

    /// <summary>The validated scheme for this spec; a one-line error for impossible hyper-parameters or unknown names.</summary>
    static ILayerInit Scheme(nn.Module model, InitSpec spec)
    {
        if (spec.SigmaW < 0 || spec.SigmaB < 0 || !double.IsFinite(spec.SigmaW) || !double.IsFinite(spec.SigmaB))
            throw new InitPruneException($"impossible initialization: sigma_w {spec.SigmaW}, sigma_b {spec.SigmaB}; both must be finite and ≥ 0");
        if (!(spec.Eta >= 0) || !double.IsFinite(spec.Eta))
            throw new InitPruneException($"impossible correlation weight eta {spec.Eta}; it must be finite and ≥ 0");
        var name = spec.Name.ToLowerInvariant();
        if (!Registry.TryGetValue(name, out var entry))
            throw new InitPruneException($"unknown initialization '{spec.Name}': use one of {string.Join(", ", Names)}");
        var sigmaB = spec.ZeroBias ? 0.0 : spec.SigmaB;
        string? activation = null;
        if (name == "eoc")
        {
            activation = spec.Activation ?? ModelActivation(model)
                ?? throw new InitPruneException($"eoc needs the activation and {model.GetType().Name} does not name one; set InitSpec.Activation (e.g. \"relu\")");
        }
        return entry.Create(spec with { SigmaB = sigmaB }, activation);
    }

    /// <summary>The model's public string property <c>Activation</c> (Mlp and every model that exposes one), else null.</summary>
    public static string? ModelActivation(nn.Module model) =>
        model.GetType().GetProperty("Activation", BindingFlags.Public | BindingFlags.Instance)?.GetValue(model) as string;
}
