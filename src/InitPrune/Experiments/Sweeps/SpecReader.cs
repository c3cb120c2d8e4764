using System.Globalization;
using System.Text.RegularExpressions;
using InitPrune.Engine;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace InitPrune.Experiments.Sweeps;

/// <summary>Reads a spec's YAML into a <see cref="SpecDocument"/>: structure, field names and value types, with line numbers.</summary>
internal sealed partial class SpecReader(string file)
{
    static readonly string[] TopLevel = ["name", "description", "reproduces", .. SpecSchema.Sections, "seeds", "variants", "scales", "report"];
    static readonly string[] LayerKeys = [.. SpecSchema.Sections, "seeds"];
    static readonly string[] ReportKeys = ["rows", "columns", "heatmap", "select", "metric", "log_x", "log_y", "claims"];
    static readonly string[] ClaimKeys = ["claim", "paper", "where", "than", "compare", "slope", "log", "metric", "expect"];

    readonly List<SpecClaim> claims = [];

    /// <summary>The longest sweep name: <c>name@scale</c> names the sweep's report folder and summary file.</summary>
    public const int MaxNameLength = 64;

    /// <summary>The longest scale name.</summary>
    public const int MaxScaleLength = 32;

    public SpecDocument Read(string yaml)
    {
        claims.Clear();
        var root = Parse(yaml);
        foreach (var (key, node) in root.Children)
            if (!TopLevel.Contains(Key(key)))
                throw Unknown(Key(key), key, TopLevel);
        var name = Text(root, "name", required: true)!;
        if (!NamePattern().IsMatch((string)name.Value!))
            throw Fail($"name = '{name.Value}' is not a valid sweep name{name.At}: use lower-case letters, digits, '.', '_' and '-'");
        if (((string)name.Value!).Length > MaxNameLength)
            throw Fail($"name = '{((string)name.Value!)[..20]}…' is {((string)name.Value!).Length} characters long{name.At}: use at most {MaxNameLength} (it names the sweep's files)");
        var variants = Child(root, "variants") is { } v ? Variants(v) : [];
        var scales = Child(root, "scales") is { } s ? Scales(s) : new Dictionary<string, SpecLayer>();
        return new SpecDocument((string)name.Value!, (string?)Text(root, "description")?.Value ?? "", (string?)Text(root, "reproduces")?.Value ?? "",
            Layer(root, "", allowOther: true), variants, scales, Child(root, "report") is { } r ? Report(r) : new Dictionary<string, ReportField>(), claims);
    }

    YamlMappingNode Parse(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            var reason = (e.InnerException is YamlException inner ? inner.Message : e.Message).Trim();
            reason = LocationPrefix().Replace(reason, "");
            throw Fail($"YAML syntax error at line {e.Start.Line}, column {e.Start.Column}: {reason}");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails this way when the text ends inside a flow collection.
            throw Fail("YAML syntax error: the file ends inside a '{...}' or '[...]': close every bracket");
        }
        if (stream.Documents.Count != 1)
            throw Fail($"the file holds {stream.Documents.Count} YAML documents: a spec is exactly one mapping (name, data, model, ...)");
        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw Fail($"the spec must be a YAML mapping of name, data, model, init, prune, train, seeds, ... (line {stream.Documents[0].RootNode.Start.Line})");
    }

    /// <summary>The settings a mapping sets: its sections and seeds; other keys are errors unless <paramref name="allowOther"/>.</summary>
    SpecLayer Layer(YamlMappingNode map, string where, bool allowOther, params string[] extraKeys)
    {
        var layer = new SpecLayer();
        foreach (var (keyNode, node) in map.Children)
        {
            var key = Key(keyNode);
            if (key == "seeds")
                layer.Seeds = Seeds(node);
            else if (SpecSchema.Sections.Contains(key))
                Section(key, node, layer);
            else if (!allowOther && !extraKeys.Contains(key))
                throw Unknown(where + key, keyNode, [.. extraKeys, .. LayerKeys]);
        }
        return layer;
    }

    void Section(string section, YamlNode node, SpecLayer layer)
    {
        if (IsNull(node)) return;
        if (node is not YamlMappingNode map)
            throw Fail($"'{section}' must be a mapping of fields, e.g. {section}: {{{SpecSchema.InSection(section)[0].Key}: ...}} (line {node.Start.Line})");
        foreach (var (keyNode, value) in map.Children)
        {
            var key = Key(keyNode);
            var field = SpecSchema.Find(section, key) ?? throw Unknown($"{section}.{key}", keyNode, [.. SpecSchema.InSection(section).Select(f => f.Key)]);
            layer.Axes[field.Path] = Axis(field, value);
        }
    }

    /// <summary>A field's values: one value, a list (a sweep), or <c>{powers_of_ten: [from, to]}</c>.</summary>
    IReadOnlyList<Leaf> Axis(SpecField field, YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map when map.Children.Count == 1 && Key(map.Children.First().Key) == "powers_of_ten"
                                          && field.Kind is ParamKind.Number or ParamKind.Integer:
                return PowersOfTen(field, map.Children.First().Value);
            case YamlMappingNode:
                throw Fail($"{field.Path} must be a value, a list of values or {{powers_of_ten: [from, to]}} (line {node.Start.Line})");
            case YamlSequenceNode seq when seq.Children.Count == 0:
                throw Fail($"{field.Path} is an empty list (line {node.Start.Line}): give at least one value");
            case YamlSequenceNode seq when field.Kind == ParamKind.Numbers && !seq.Children.Any(c => c is YamlSequenceNode):
                return [Value(field, seq)];
            case YamlSequenceNode seq:
                return [.. seq.Children.Select(c => Value(field, c))];
            default:
                return [Value(field, node)];
        }
    }

    /// <summary>The largest exponent a <c>powers_of_ten</c> bound may have: 10^±30 covers every sensible hyper-parameter.</summary>
    public const int MaxPowerOfTen = 30;

    IReadOnlyList<Leaf> PowersOfTen(SpecField field, YamlNode node)
    {
        var bounds = node is YamlSequenceNode { Children.Count: 2 } seq ? seq.Children.Select(c => Integer(c)).ToArray() : null;
        if (bounds is null || bounds.Any(b => b is null) || bounds[0] > bounds[1])
            throw Fail($"{field.Path}: powers_of_ten needs [from, to], two integers with from ≤ to, e.g. [-3, 0] for 0.001, 0.01, 0.1, 1 (line {node.Start.Line})");
        if (field.Kind == ParamKind.Integer && (bounds[0] < 0 || bounds[1] > 9))
            throw Fail($"{field.Path} is an integer: powers_of_ten must stay within [0, 9] (line {node.Start.Line})");
        if (bounds[0] < -MaxPowerOfTen || bounds[1] > MaxPowerOfTen)
            throw Fail($"{field.Path}: powers_of_ten [{bounds[0]}, {bounds[1]}] would list {bounds[1] - bounds[0] + 1} values; its bounds must stay within [-{MaxPowerOfTen}, {MaxPowerOfTen}] (line {node.Start.Line})");
        return [.. Enumerable.Range((int)bounds[0]!, (int)(bounds[1]! - bounds[0]!) + 1).Select(k => new Leaf(
            field.Kind == ParamKind.Integer ? (object)(int)Math.Pow(10, k) : double.Parse($"1e{k}", CultureInfo.InvariantCulture), node.Start.Line))];
    }

    Leaf Value(SpecField field, YamlNode node)
    {
        long line = node.Start.Line;
        if (IsNull(node))
            return field.Nullable ? new Leaf(null, line) : throw Fail($"{field.Path} cannot be null (line {line}): give a value or leave the field out");
        if (field.Kind == ParamKind.Numbers)
        {
            if (node is not YamlSequenceNode seq || seq.Children.Any(c => Number(c) is null))
                throw Fail($"{field.Path} must be a list of numbers such as [0.5, 0.75], or a list of such lists to sweep it (line {line})");
            return new Leaf(seq.Children.Select(c => Number(c)!.Value).ToArray(), line);
        }
        if (node is not YamlScalarNode scalar)
            throw Fail($"{field.Path} must be a single value or a list of single values (line {line})");
        var text = scalar.Value ?? "";
        object? value = field.Kind switch
        {
            ParamKind.Text => text,
            ParamKind.Integer => Integer(node) is { } i && i is >= int.MinValue and <= int.MaxValue ? (int)i : null,
            ParamKind.Number => Number(node),
            _ => text.ToLowerInvariant() switch { "true" => true, "false" => false, _ => null },
        };
        var what = field.Kind switch { ParamKind.Integer => "an integer", ParamKind.Number => "a number", _ => "true or false" };
        return value is null ? throw Fail($"{field.Path} = '{text}' is not {what} (line {line})") : new Leaf(value, line);
    }

    IReadOnlyList<Leaf> Seeds(YamlNode node)
    {
        if (node is YamlScalarNode)
        {
            var n = Integer(node) is { } c && c is >= 1 and <= 100000 ? (int)c
                : throw Fail($"seeds = '{((YamlScalarNode)node).Value}' is impossible (line {node.Start.Line}): give a count n ≥ 1 (seeds 0 … n-1) or a list of seeds");
            return [.. Enumerable.Range(0, n).Select(s => new Leaf((long)s, node.Start.Line))];
        }
        if (node is not YamlSequenceNode seq || seq.Children.Count == 0)
            throw Fail($"seeds must be a count n (seeds 0 … n-1) or a non-empty list of seeds (line {node.Start.Line})");
        var seeds = seq.Children.Select(c => Integer(c) is { } s && s >= 0 ? new Leaf(s, c.Start.Line)
            : throw Fail($"seeds: '{c}' is not a seed (line {c.Start.Line}): use integers ≥ 0")).ToList();
        var twice = seeds.GroupBy(s => s.Value).FirstOrDefault(g => g.Count() > 1);
        return twice is null ? seeds : throw Fail($"seeds lists seed {twice.Key} twice (line {node.Start.Line}): each seed once");
    }

    IReadOnlyList<SpecVariant> Variants(YamlNode node)
    {
        if (node is not YamlSequenceNode seq || seq.Children.Count == 0)
            throw Fail($"variants must be a non-empty list of overrides, each with a label (line {node.Start.Line})");
        var variants = new List<SpecVariant>();
        foreach (var item in seq.Children)
        {
            if (item is not YamlMappingNode map)
                throw Fail($"each variant must be a mapping with a label and the sections it overrides (line {item.Start.Line})");
            var label = Text(map, "label", required: true, where: "variants[].")!;
            var text = ((string)label.Value!).Trim();
            if (text.Length == 0)
                throw Fail($"variants[].label is empty{label.At}: give each variant a row label");
            if (variants.Any(v => v.Label == text))
                throw Fail($"variants: label '{text}' is used twice{label.At}: labels name the report's rows and must differ");
            variants.Add(new SpecVariant(text, Layer(map, "variants[].", allowOther: false, "label")));
        }
        return variants;
    }

    Dictionary<string, SpecLayer> Scales(YamlNode node)
    {
        if (node is not YamlMappingNode map)
            throw Fail($"scales must be a mapping from scale names to overrides, e.g. scales: {{smoke: {{train: {{max_steps: 300}}}}}} (line {node.Start.Line})");
        var scales = new Dictionary<string, SpecLayer>();
        foreach (var (keyNode, value) in map.Children)
        {
            var name = Key(keyNode);
            if (!NamePattern().IsMatch(name))
                throw Fail($"scales: '{name}' is not a valid scale name (line {keyNode.Start.Line}): use lower-case letters, digits, '.', '_' and '-'");
            if (name.Length > MaxScaleLength)
                throw Fail($"scales: '{name[..20]}…' is {name.Length} characters long (line {keyNode.Start.Line}): use at most {MaxScaleLength}");
            scales[name] = IsNull(value) ? new SpecLayer()
                : value is YamlMappingNode m ? Layer(m, $"scales.{name}.", allowOther: false)
                : throw Fail($"scales.{name} must be a mapping of the sections it overrides (line {value.Start.Line})");
        }
        return scales;
    }

    Dictionary<string, ReportField> Report(YamlNode node)
    {
        if (node is not YamlMappingNode map)
            throw Fail($"report must be a mapping of rows, columns, heatmap, select and metric (line {node.Start.Line})");
        var fields = new Dictionary<string, ReportField>();
        foreach (var (keyNode, value) in map.Children)
        {
            var key = Key(keyNode);
            if (!ReportKeys.Contains(key)) throw Unknown($"report.{key}", keyNode, ReportKeys);
            if (key == "claims")
            {
                if (IsNull(value)) continue;
                if (value is not YamlSequenceNode seq)
                    throw Fail($"report.claims must be a list of {{claim, where, expect, ...}} mappings (line {value.Start.Line})");
                claims.AddRange(seq.Children.Select(Claim));
            }
            else if (key is "heatmap" or "select")
            {
                if (key == "heatmap" && IsNull(value)) continue;
                string[] parts = key == "heatmap" ? ["x", "y"] : ["over", "by"];
                if (value is not YamlMappingNode sub)
                    throw Fail($"report.{key} must be a mapping {{{parts[0]}: ..., {parts[1]}: ...}} (line {value.Start.Line})");
                foreach (var (k, _) in sub.Children)
                    if (!parts.Contains(Key(k))) throw Unknown($"report.{key}.{Key(k)}", k, parts);
                foreach (var part in parts)
                    if (Text(sub, part, required: key == "heatmap" || part == "over", where: $"report.{key}.") is { } t)
                        fields[$"{key}.{part}"] = new ReportField((string)t.Value!, t.Line);
            }
            else if (Text(map, key) is { } t)
                fields[key] = new ReportField((string)t.Value!, t.Line);
        }
        return fields;
    }

    /// <summary>One entry of <c>report.claims</c>: its fields' shapes; SpecLoader checks the names and the test.</summary>
    SpecClaim Claim(YamlNode node)
    {
        if (node is not YamlMappingNode map)
            throw Fail($"report.claims: each claim must be a mapping {{claim, where, expect, ...}} (line {node.Start.Line})");
        foreach (var (k, _) in map.Children)
            if (!ClaimKeys.Contains(Key(k))) throw Unknown($"report.claims.{Key(k)}", k, ClaimKeys);
        const string where = "report.claims.";
        Dictionary<string, string>? Selection(string key)
        {
            var child = Child(map, key);
            if (child is null || IsNull(child)) return null;
            if (child is not YamlMappingNode sel || sel.Children.Count == 0)
                throw Fail($"{where}{key} must be a mapping of fields to values, e.g. {{label: rescaled, model.depth: 20}} (line {child.Start.Line})");
            return sel.Children.ToDictionary(kv => Key(kv.Key), kv => kv.Value is YamlScalarNode { Value: { } v } ? v
                : throw Fail($"{where}{key}.{Key(kv.Key)} must be a single value (line {kv.Value.Start.Line})"));
        }
        var claim = new ReportClaim(
            (string)Text(map, "claim", required: true, where)!.Value!,
            Selection("where") ?? throw Fail($"{where}where is missing (line {map.Start.Line}): say which runs the claim is about, e.g. where: {{model.depth: 20}}"),
            (string)Text(map, "expect", required: true, where)!.Value!,
            (string?)Text(map, "metric", where: where)?.Value,
            Selection("than"),
            (string?)Text(map, "compare", where: where)?.Value ?? "difference",
            (string?)Text(map, "slope", where: where)?.Value,
            ((string?)Text(map, "log", where: where)?.Value)?.Trim().ToLowerInvariant() switch
            {
                null or "false" => false,
                "true" => true,
                var other => throw Fail($"{where}log = '{other}' is not true or false (line {Child(map, "log")!.Start.Line})"),
            },
            (string?)Text(map, "paper", where: where)?.Value);
        return new SpecClaim(claim, node.Start.Line);
    }

    /// <summary>A scalar string child (null when absent); <paramref name="required"/> makes absence an error.</summary>
    Leaf? Text(YamlMappingNode map, string key, bool required = false, string where = "")
    {
        var node = Child(map, key);
        if (node is null || IsNull(node))
            return required ? throw Fail($"{where}{key} is missing (line {map.Start.Line}): every spec needs it") : null;
        return node is YamlScalarNode { Value: { } v } ? new Leaf(v, node.Start.Line)
            : throw Fail($"{where}{key} must be a single value (line {node.Start.Line})");
    }

    static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.FirstOrDefault(kv => Key(kv.Key) == key).Value;

    static string Key(YamlNode node) => node is YamlScalarNode { Value: { } v } ? v : node.ToString();

    static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s && s.Value is null or "" or "~" or "null" or "Null" or "NULL";

    static long? Integer(YamlNode node)
    {
        if (node is not YamlScalarNode { Value: { } v }) return null;
        if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == Math.Floor(d) && Math.Abs(d) < 1e15 ? (long)d : null;
    }

    static double? Number(YamlNode node) =>
        node is YamlScalarNode { Value: { } v } && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    InitPruneException Unknown(string path, YamlNode keyNode, IEnumerable<string> allowed) =>
        Fail($"unknown field '{path}' (line {keyNode.Start.Line}): use one of {string.Join(", ", allowed)}");

    InitPruneException Fail(string message) => SpecError.In(file, message);

    [GeneratedRegex("^[a-z0-9._-]+$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex LocationPrefix();
}
