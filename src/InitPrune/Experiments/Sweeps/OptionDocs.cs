using InitPrune.Engine;
using InitPrune.Pruning;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// The option tables of docs/specs.md and docs/methods.md, generated from the declarations (a test keeps the files
/// equal to them; <c>INITPRUNE_UPDATE_DOCS=1 dotnet test --filter OptionDocs</c> rewrites them).
/// </summary>
public static class OptionDocs
{
    /// <summary>Every spec field: section, key, default, allowed values, command-line option, help and source.</summary>
    public static string SpecFields() => Table(["field", "default", "values", "CLI", "meaning"],
        SpecSchema.Fields.Select(f => new[]
        {
            $"`{f.Path}`", f.Section == "prune" && PrunerRegistry.DefaultsByMethod(f.Key) is { } d ? Escape(d) : Default(f.Param),
            Values(f.Param), Cli(f.Param), Meaning(f.Param),
        }));

    /// <summary>Every pruning method with its options.</summary>
    public static string MethodOptions() => Table(["method", "option", "default", "values", "meaning"],
        PrunerRegistry.Methods.SelectMany(m => m.Options.Count == 0
            ? [new[] { $"`{m.Name}`", "—", "", "", Escape(m.Summary) }]
            : m.Options.Select(p => new[] { $"`{m.Name}`", $"`{p.Flag}` / `prune.{p.Key}`", Default(p), Values(p), Meaning(p) })));

    static string Table(string[] header, IEnumerable<string[]> rows) =>
        string.Join("\n", new[] { $"| {string.Join(" | ", header)} |", $"|{string.Concat(header.Select(_ => "---|"))}" }
            .Concat(rows.Select(r => $"| {string.Join(" | ", r)} |"))) + "\n";

    static string Default(Param p) => p.Default switch
    {
        null => "none",
        double d when p.Key == "sigma_w" && d == Math.Sqrt(2) => "√2",
        var v => Escape(Format(v)),
    };

    static string Values(Param p) => p.Choices is { Count: > 0 } c && c.Count <= 12 ? Escape(string.Join(", ", c)) : Escape(p.Range);

    static string Cli(Param p) => p.Key == SpecSchema.Fallback ? "" : $"`{p.Flag}`";

    static string Meaning(Param p) => Escape(p.Help) + (p.Cite is { } c ? $" ({Escape(c)})" : "") + (p.For is { } f ? $"; only for {f.Replace(" ", ", ")}" : "");

    static string Format(object v) => v switch
    {
        bool b => b ? "true" : "false",
        double[] a => $"[{string.Join(", ", a)}]",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    static string Escape(string text) => text.Replace("|", "\\|");
}
