using InitPrune.Engine;
using InitPrune.Pruning;
using static TorchSharp.torch;

namespace InitPrune.IO;

/// <summary>How a state_dict stores masks beside the weights.</summary>
public enum Layout
{
    /// <summary>Weights only, under the parameter names (<c>layers.0.weight</c>); pruned entries are 0. InitPrune's own layout.</summary>
    Plain,

    /// <summary>
    /// <c>torch.nn.utils.prune</c>: <c>X.weight_orig</c> (parameter) and <c>X.weight_mask</c> (buffer), the module computing with
    /// <c>weight_orig * weight_mask</c>; unpruned tensors keep their names.
    /// </summary>
    TorchPrune,

    /// <summary>Synaptic-Flow's masked layers: <c>X.weight</c> and a <c>X.weight_mask</c> buffer (also <c>X.bias_mask</c>).</summary>
    SynapticFlow,

    /// <summary>
    /// open_lth's <c>PrunedModel</c>: the network's tensors under <c>model.X.weight</c> and a buffer <c>mask_X___weight</c> per
    /// masked tensor (its name with <c>.</c> written <c>___</c>).
    /// </summary>
    OpenLth,
}

/// <summary>A state_dict split into weights (by parameter name, pruned entries 0) and the masks it carried (0/1, by the same names).</summary>
public sealed class SplitStateDict(TensorDict weights, TensorDict masks, Layout layout) : IDisposable
{
    /// <summary>Weights, buffers and anything else the file held, owned by this object until taken.</summary>
    public TensorDict Weights { get; } = weights;

    /// <summary>The masks the file carried (numeric or bool, as stored), keyed by the tensor they mask; empty for <see cref="Layout.Plain"/>.</summary>
    public TensorDict Masks { get; } = masks;

    public Layout Layout { get; } = layout;

    public void Dispose()
    {
        Weights.Dispose();
        Masks.Dispose();
    }
}

/// <summary>What <c>initprune convert</c> did.</summary>
public sealed record ConvertSummary(string Input, string InputLayout, string Output, string Format, string Layout, int Tensors, int Masked);

/// <summary>Reads the torch.nn.utils.prune and Synaptic-Flow layouts as weights + masks, and writes the torch-prune layout.</summary>
public static class StateDictLayout
{
    const string MaskSuffix = "_mask";
    const string OrigSuffix = "_orig";

    public static string Name(Layout layout) => layout switch
    {
        Layout.TorchPrune => "torch-prune",
        Layout.SynapticFlow => "synaptic-flow",
        Layout.OpenLth => "open-lth",
        _ => "plain",
    };

    /// <summary>Parses --layout (plain, torch-prune).</summary>
    public static Layout Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "plain" => Layout.Plain,
        "torch-prune" or "torch_prune" => Layout.TorchPrune,
        _ => throw new InitPruneException($"--layout '{text}' is not a layout InitPrune writes: use plain (weights only, pruned entries 0) or torch-prune (X.weight_orig + X.weight_mask)"),
    };

    /// <summary>Reads a tensor file (safetensors or .pt) and splits it; the caller owns (disposes) the result.</summary>
    public static SplitStateDict Read(string path, string what = "file") => Split(TensorFile.Load(path, what));

    /// <summary>
    /// Splits a state_dict (taken over: every tensor ends up in the result or freed). For each <c>X_mask</c> beside an
    /// <c>X_orig</c> (torch.nn.utils.prune) the weight <c>X</c> is <c>X_orig * X_mask</c>, what the pruned module computes
    /// with; for each <c>X_mask</c> beside an <c>X</c> (Synaptic-Flow) it is <c>X * X_mask</c>. The mask goes to
    /// <see cref="SplitStateDict.Masks"/> under <c>X</c>. Every other tensor is a weight under its own name. An open_lth
    /// PrunedModel state_dict is first renamed to the Synaptic-Flow form (<c>model.X</c> → <c>X</c>, <c>mask_A___B</c> → <c>A.B_mask</c>).
    /// </summary>
    public static SplitStateDict Split(TensorDict raw)
    {
        if (FromOpenLth(raw) is { } renamed)
        {
            var split = Split(renamed);
            return new SplitStateDict(split.Weights, split.Masks, Layout.OpenLth);
        }
        using (raw)
        {
            using var weights = new TensorDict();
            using var masks = new TensorDict();
            var layout = Layout.Plain;
            var pairs = raw.Keys
                .Where(k => k.EndsWith(MaskSuffix, StringComparison.Ordinal) && k.Length > MaskSuffix.Length)
                .Select(k => (Mask: k, Base: k[..^MaskSuffix.Length]))
                .Where(p => raw.ContainsKey(p.Base + OrigSuffix) || raw.ContainsKey(p.Base))
                .ToDictionary(p => p.Base, p => p.Mask, StringComparer.Ordinal);
            foreach (var name in raw.Keys.ToList())
            {
                if (name.EndsWith(MaskSuffix, StringComparison.Ordinal) && pairs.ContainsValue(name)) continue;
                var isOrig = name.EndsWith(OrigSuffix, StringComparison.Ordinal) && pairs.ContainsKey(name[..^OrigSuffix.Length]);
                var target = isOrig ? name[..^OrigSuffix.Length] : name;
                if (!pairs.TryGetValue(target, out var maskName))
                {
                    weights.Add(target, raw.Take(name));
                    continue;
                }
                layout = isOrig ? Layout.TorchPrune : layout == Layout.TorchPrune ? layout : Layout.SynapticFlow;
                var w = raw[name];
                var m = raw[maskName];
                if (!m.shape.SequenceEqual(w.shape))
                    throw new InitPruneException($"'{maskName}' has shape [{string.Join(",", m.shape)}] but '{name}' is [{string.Join(",", w.shape)}]: the file's mask does not fit its weight");
                using (var mw = m.to(w.dtype, w.device))
                    weights.AddOrFree(target, w.mul(mw));
                masks.Add(target, raw.Take(maskName));
            }
            return new SplitStateDict(weights.TakeAll(), masks.TakeAll(), layout);
        }
    }

    const string LthModel = "model.";
    const string LthMask = "mask_";

    /// <summary>
    /// <paramref name="raw"/>'s tensors (taken over) renamed from open_lth's PrunedModel layout, or null (and
    /// <paramref name="raw"/> untouched) when it is not that layout: every mask buffer names a tensor under <c>model.</c>
    /// and every other tensor is under <c>model.</c>.
    /// </summary>
    static TensorDict? FromOpenLth(TensorDict raw)
    {
        static string Masked(string key) => key[LthMask.Length..].Replace("___", ".", StringComparison.Ordinal);
        var masks = raw.Keys.Where(k => k.StartsWith(LthMask, StringComparison.Ordinal) && raw.ContainsKey(LthModel + Masked(k))).ToHashSet();
        if (masks.Count == 0 || raw.Keys.Any(k => !masks.Contains(k) && !k.StartsWith(LthModel, StringComparison.Ordinal))) return null;
        using (raw)
        {
            using var renamed = new TensorDict();
            foreach (var key in raw.Keys.ToList())
                renamed.AddOrFree(masks.Contains(key) ? Masked(key) + MaskSuffix : key[LthModel.Length..], raw.Take(key));
            return renamed.TakeAll();
        }
    }

    /// <summary>
    /// The torch.nn.utils.prune layout of <paramref name="weights"/> (borrowed) under <paramref name="masks"/> (borrowed, bool
    /// or 0/1): every masked tensor <c>X</c> becomes <c>X_orig</c> (its values) and <c>X_mask</c> (the mask in its dtype), as
    /// a module after <c>prune.identity(module, "weight")</c> holds them. Owned by the caller.
    /// </summary>
    public static TensorDict ToTorchPrune(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor> masks)
    {
        CheckMasks(weights, masks);
        using var result = new TensorDict();
        foreach (var (name, w) in weights)
        {
            using var view = w.detach();
            if (masks.TryGetValue(name, out var m))
            {
                result.AddOrFree(name + OrigSuffix, view.clone());
                result.AddOrFree(name + MaskSuffix, m.ne(0).to(w.dtype));
            }
            else
            {
                result.AddOrFree(name, view.clone());
            }
        }
        return result.TakeAll();
    }

    /// <summary>Plain layout: <paramref name="weights"/> with every masked tensor multiplied by its mask. Owned by the caller.</summary>
    public static TensorDict ToPlain(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor> masks)
    {
        CheckMasks(weights, masks);
        return weights.ToTensorDict(kv => kv.Key, kv =>
        {
            using var view = kv.Value.detach();
            if (!masks.TryGetValue(kv.Key, out var m)) return view.clone();
            using var keep = m.ne(0).to(kv.Value.dtype, kv.Value.device);
            return view.mul(keep);
        });
    }

    /// <summary>
    /// <c>initprune convert</c>: reads <paramref name="input"/> (safetensors or .pt, any layout) and an optional mask file, and
    /// writes the weights in <paramref name="layout"/> and <paramref name="format"/> to <paramref name="output"/>. Without
    /// <paramref name="maskPath"/>, the masks the input carries are used; torch-prune needs one or the other.
    /// </summary>
    public static ConvertSummary Convert(string input, string output, Layout layout, SaveFormat format, string? maskPath = null)
    {
        if (layout == Layout.SynapticFlow) throw new InitPruneException("--layout synaptic-flow is read but not written: use plain or torch-prune");
        TensorFile.RequireFile(input, "weights file");
        if (maskPath is not null) TensorFile.RequireFile(maskPath, "mask file");
        Artifacts.CheckPath(output, "--out");
        using var split = Read(input, "weights file");
        using var given = maskPath is null ? null : Mask.Load(maskPath);
        var masks = given?.Tensors ?? split.Masks;
        if (layout == Layout.TorchPrune && masks.Count == 0)
            throw new InitPruneException($"--layout torch-prune needs a mask: '{CheckpointFormat.OneLine(input)}' carries none, so pass --mask (e.g. the mask.safetensors prune wrote)");
        using var tensors = layout == Layout.TorchPrune ? ToTorchPrune(split.Weights, masks) : ToPlain(split.Weights, masks);
        TensorFile.SaveAs(output, tensors, format, new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "initprune" });
        return new ConvertSummary(input, Name(split.Layout), output, format == SaveFormat.Pt ? "pt" : "safetensors", Name(layout), tensors.Count, masks.Count);
    }

    static void CheckMasks(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor> masks)
    {
        foreach (var (name, m) in masks)
        {
            if (!weights.TryGetValue(name, out var w))
                throw new InitPruneException($"the mask names '{name}', which the weights do not hold ({string.Join(", ", weights.Keys)}): was it made for another model?");
            if (!m.shape.SequenceEqual(w.shape))
                throw new InitPruneException($"the mask has shape [{string.Join(",", m.shape)}] for '{name}' but the weight is [{string.Join(",", w.shape)}]: was it made for another model?");
        }
    }
}
