using InitPrune.Engine;

namespace InitPrune.Experiments.Sweeps;

/// <summary>One value of a spec leaf and the line it was written on (0 for a record default).</summary>
internal sealed record Leaf(object? Value, long Line)
{
    public string At => Line > 0 ? $" (line {Line})" : "";
}

/// <summary>
/// One layer of settings as written (the base, a variant or a scale): the values of each field path it sets
/// (more than one value sweeps that field) and the seeds, when it sets them.
/// </summary>
internal sealed class SpecLayer
{
    public Dictionary<string, IReadOnlyList<Leaf>> Axes { get; } = [];
    public IReadOnlyList<Leaf>? Seeds { get; set; }

    /// <summary>This layer with every field that <paramref name="top"/> sets replaced by its values.</summary>
    public SpecLayer Under(SpecLayer? top)
    {
        var merged = new SpecLayer { Seeds = top?.Seeds ?? Seeds };
        foreach (var (path, values) in Axes) merged.Axes[path] = values;
        if (top is not null)
            foreach (var (path, values) in top.Axes) merged.Axes[path] = values;
        return merged;
    }
}

/// <summary>A variant: its row label and the fields it overrides.</summary>
internal sealed record SpecVariant(string Label, SpecLayer Layer);

/// <summary>A report setting as written (e.g. <c>report.columns</c>).</summary>
internal sealed record ReportField(string Value, long Line);

/// <summary>A spec file as read, before expansion.</summary>
internal sealed record SpecDocument(
    string Name,
    string Description,
    string Reproduces,
    SpecLayer Base,
    IReadOnlyList<SpecVariant> Variants,
    IReadOnlyDictionary<string, SpecLayer> Scales,
    IReadOnlyDictionary<string, ReportField> Report,
    IReadOnlyList<SpecClaim>? Claims = null);

/// <summary>A claim of <c>report.claims</c> as written, with its line for error messages.</summary>
internal sealed record SpecClaim(ReportClaim Claim, long Line);

/// <summary>Spec errors: one line that starts with the file name.</summary>
internal static class SpecError
{
    public static InitPruneException In(string file, string message) => new($"{file}: {message}");
}
