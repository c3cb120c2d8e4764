using InitPrune.Engine;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// Reads a YAML experiment spec (docs/specs.md) and expands it into its grid of runs: the cross product of every
/// listed field, per variant (variants outermost, fields in declaration order, seeds innermost), after merging the
/// chosen scale over the base and over each variant. Every value is checked before anything runs.
/// </summary>
public static class SpecLoader
{
    /// <summary>Refuses specs that expand to more runs than this (a typo such as a long powers_of_ten range).</summary>
    public const int MaxEntries = 100_000;

    static readonly string[] Metrics = ["test_accuracy", "validation_accuracy", "test_loss"];

    /// <summary>What a report may show: the metrics, ‖J‖ at initialization (runs with train.jacobian_every &gt; 0) and its ratio over the dense run's.</summary>
    static readonly string[] ReportMetrics = [.. Metrics, "jacobian_norm", "jacobian_ratio"];

    /// <summary>Reads and expands the spec file at <paramref name="path"/>; see <see cref="Parse"/>.</summary>
    public static SweepSpec Load(string path, string scale = "full", string? dataDir = null, bool requireData = true)
    {
        if (!File.Exists(path))
            throw new InitPruneException($"{path}: no such spec file: check the path (the shipped specs are in configs/)");
        return Parse(File.ReadAllText(path), path, scale, dataDir, requireData) with { SourcePath = Path.GetFullPath(path) };
    }

    /// <summary>
    /// Expands the spec <paramref name="yaml"/> (<paramref name="sourceName"/> names it in errors) at
    /// <paramref name="scale"/>: "full" is the spec as written (plus <c>scales.full</c> if present), any other name
    /// must be under <c>scales</c>. Datasets are looked for in <paramref name="dataDir"/> only when given (see <see cref="InitPrune.Data.DataRoot"/>); with
    /// <paramref name="requireData"/> false a missing dataset is kept under its name with a note instead of an error.
    /// </summary>
    public static SweepSpec Parse(string yaml, string sourceName, string scale = "full", string? dataDir = null, bool requireData = true)
    {
        var doc = new SpecReader(sourceName).Read(yaml);
        SpecLayer? scaleLayer = doc.Scales.TryGetValue(scale, out var s) ? s
            : scale == "full" ? null
            : throw SpecError.In(sourceName, $"unknown scale '{scale}': use one of {string.Join(", ", doc.Scales.Keys.Prepend("full").Distinct())}");

        var datasets = new DatasetResolver(sourceName, dataDir, requireData);
        var normalizer = new RunNormalizer(sourceName, datasets);
        IEnumerable<(string? Label, SpecLayer Layer)> variants = doc.Variants.Count > 0
            ? doc.Variants.Select(v => ((string?)v.Label, v.Layer))
            : [(null, new SpecLayer())];
        var grids = variants.Select(v => (v.Label, Merged: doc.Base.Under(v.Layer).Under(scaleLayer))).ToList();
        long count = grids.Sum(g => SpecSchema.Fields.Aggregate((long)(g.Merged.Seeds?.Count ?? 1),
            (n, f) => Math.Min(n * (g.Merged.Axes.GetValueOrDefault(f.Path)?.Count ?? 1), long.MaxValue / 1024)));
        if (count > MaxEntries)
            throw SpecError.In(sourceName, $"the spec expands to {count} runs at scale '{scale}', more than {MaxEntries}: shorten its lists");

        var entries = new List<SweepEntry>();
        foreach (var (label, merged) in grids)
        {
            var axes = SpecSchema.Fields.Select(f => (f.Path, Values: merged.Axes.GetValueOrDefault(f.Path) ?? [new Leaf(f.Default, 0)])).ToList();
            IReadOnlyList<Leaf> seeds = merged.Seeds ?? [new Leaf(0L, 0)];
            bool epochsGiven = merged.Axes.ContainsKey("train.epochs");
            foreach (var combination in Cross(axes, 0, []))
                foreach (var seed in seeds)
                    entries.Add(normalizer.Build(label, combination, seed, epochsGiven));
        }
        return new SweepSpec(doc.Name, scale, doc.Description, doc.Reproduces, Layout(doc, entries, sourceName), entries,
            datasets.Notes, yaml, sourceName);
    }

    /// <summary>Every combination of the axes' values, the first axis outermost.</summary>
    static IEnumerable<Dictionary<string, Leaf>> Cross(IReadOnlyList<(string Path, IReadOnlyList<Leaf> Values)> axes, int index, Dictionary<string, Leaf> chosen)
    {
        if (index == axes.Count)
        {
            yield return new Dictionary<string, Leaf>(chosen);
            yield break;
        }
        foreach (var value in axes[index].Values)
        {
            chosen[axes[index].Path] = value;
            foreach (var combination in Cross(axes, index + 1, chosen))
                yield return combination;
        }
    }

    static ReportLayout Layout(SpecDocument doc, IReadOnlyList<SweepEntry> entries, string file)
    {
        string? Field(string key, IReadOnlyList<string> allowed, string what)
        {
            if (!doc.Report.TryGetValue(key, out var f)) return null;
            return allowed.Contains(f.Value) ? f.Value
                : throw SpecError.In(file, $"report.{key} = '{f.Value}' is not {what} (line {f.Line}): use one of {string.Join(", ", allowed)}");
        }
        string? Rows()
        {
            if (!doc.Report.TryGetValue("rows", out var f)) return null;
            var parts = ReportLayout.Parts(f.Value);
            foreach (var part in parts)
                if (!RunNormalizer.CoordinatePaths.Contains(part))
                    throw SpecError.In(file, $"report.rows = '{f.Value}' names '{part}', which is not a coordinate path (line {f.Line}): use one of {string.Join(", ", RunNormalizer.CoordinatePaths)}, or several joined by ' + '");
            return parts.Length == 0 ? null : string.Join(ReportLayout.Join, parts);
        }
        bool Flag(string key)
        {
            if (!doc.Report.TryGetValue(key, out var f)) return false;
            return f.Value.Trim().ToLowerInvariant() switch
            {
                "true" => true,
                "false" => false,
                _ => throw SpecError.In(file, $"report.{key} = '{f.Value}' is not true or false (line {f.Line})"),
            };
        }
        var paths = RunNormalizer.CoordinatePaths;
        var defaults = new ReportLayout();
        var layout = new ReportLayout(
            Rows() ?? defaults.Rows,
            Field("columns", [.. paths, ReportLayout.KeptFraction], "a coordinate path") ?? defaults.Columns,
            Field("heatmap.x", paths, "a coordinate path"),
            Field("heatmap.y", paths, "a coordinate path"),
            Field("select.over", paths, "a coordinate path"),
            Field("select.by", Metrics, "a metric") ?? defaults.SelectBy,
            Field("metric", ReportMetrics, "a metric") ?? defaults.Metric,
            Flag("log_x"),
            Flag("log_y"));
        bool gridVaries = layout.SelectOver is { } over && entries.Select(e => e.Coordinates[over]).Distinct().Skip(1).Any();
        bool needsValidation = layout.Metric == "validation_accuracy" || (gridVaries && layout.SelectBy == "validation_accuracy");
        if (needsValidation && entries.Any(e => e.Config.Data.Validation == 0))
            throw SpecError.In(file, "report asks for validation_accuracy but data.validation is 0: hold out training samples for it (e.g. data: {validation: 5000})");
        bool depthVaries = entries.Select(e => e.Coordinates["model.depth"]).Distinct().Skip(1).Any();
        return layout.HeatmapX is null && depthVaries && layout.Columns != "model.depth" && layout.Rows != "model.depth" ? layout with { HeatmapX = layout.Columns, HeatmapY = "model.depth" } : layout;
    }
}
