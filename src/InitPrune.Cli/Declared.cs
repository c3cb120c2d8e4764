using System.CommandLine;
using InitPrune.Engine;

namespace InitPrune.Cli;

/// <summary>
/// Command-line options made from declared options (<see cref="Param"/>): the name, type, default, help, range and
/// source come from the declaration, and values are checked and canonicalized by it, as a spec's are.
/// </summary>
internal sealed class Declared
{
    readonly List<(Param Param, Option Option)> options = [];

    /// <param name="noDefault">Keys whose option has no default on this command (the user must choose).</param>
    public Declared(IEnumerable<Param> parameters, string prefix = "", params string[] noDefault)
        : this(parameters, _ => prefix, noDefault)
    {
    }

    /// <param name="prefix">Prepended to an option's help (e.g. the methods that declare it).</param>
    /// <param name="noDefault">Keys whose option has no default on this command (the user must choose).</param>
    public Declared(IEnumerable<Param> parameters, Func<Param, string> prefix, params string[] noDefault)
    {
        foreach (var p in parameters) options.Add((p, Create(p, prefix(p), !noDefault.Contains(p.Key))));
    }

    public IEnumerable<Option> Options => options.Select(o => o.Option);

    public IEnumerable<Param> Params => options.Select(o => o.Param);

    public void AddTo(Command command)
    {
        foreach (var (_, option) in options) command.Add(option);
    }

    /// <summary>True when the user typed the option (not its default).</summary>
    public bool Given(ParseResult r, string key) => r.GetResult(Find(key).Option) is { Implicit: false };

    /// <summary>
    /// The values, canonical and checked against their declarations (one-line error naming the option), keyed by
    /// option key; with <paramref name="givenOnly"/> only the options the user typed.
    /// </summary>
    public Dictionary<string, object?> Values(ParseResult r, bool givenOnly = false)
    {
        var values = new Dictionary<string, object?>();
        foreach (var (p, option) in options)
        {
            if (givenOnly && !Given(r, p.Key)) continue;
            if (!Given(r, p.Key) && !HasDefault(option)) continue;
            var value = p.Canonical(Read(r, p, option));
            // A name from a registry is checked by the registry when used, which says more (e.g. resnetN needs N = 6n+2).
            if ((p.Kind != ParamKind.Text || p.Registry is null) && p.Problem(value) is { } advice)
                throw new InitPruneException(p.Kind == ParamKind.Text
                    ? $"{p.Flag} '{value}' is unknown: {advice}"
                    : $"{p.Flag} {Shared.Format(value)} is impossible: {advice}");
            values[p.Key] = value;
        }
        return values;
    }

    /// <summary>
    /// Refuses an option the user typed that does not apply to the section's <paramref name="name"/> (e.g. --eta
    /// without --init correlated): it would change nothing, and a spec would normalize it away.
    /// </summary>
    public void RefuseIrrelevant(ParseResult r, string name, string nameFlag)
    {
        foreach (var (p, _) in options)
            if (!p.AppliesTo(name) && Given(r, p.Key))
                throw new InitPruneException($"{p.Flag} does nothing for {nameFlag} {name}: it applies to {p.For!.Replace(" ", ", ")}");
    }

    /// <summary>The section record <typeparamref name="T"/> from these options (options it lacks keep their declared defaults).</summary>
    public T Build<T>(ParseResult r) => (T)Param.Build(typeof(T), Values(r));

    (Param Param, Option Option) Find(string key) => options.First(o => o.Param.Key == key);

    static bool HasDefault(Option option) => option.HasDefaultValue;

    static object? Read(ParseResult r, Param p, Option option) => option switch
    {
        Option<string?> o when p.Kind == ParamKind.Numbers => Shared.ParseList(r.GetValue(o), p.Flag, double.Parse),
        Option<string> o => r.GetValue(o),
        Option<int> o => r.GetValue(o),
        Option<int?> o => r.GetValue(o),
        Option<double> o => r.GetValue(o),
        Option<double?> o => r.GetValue(o),
        Option<bool> o => p.Negated ? !r.GetValue(o) : r.GetValue(o),
        _ => throw new InvalidOperationException($"option {p.Flag} has an unexpected type"),
    };

    static Option Create(Param p, string prefix, bool withDefault)
    {
        var description = prefix + p.Help + (p.Range.Length > 0 && p.Choices is null ? $" ({p.Range})" : "") + (p.Cite is { } c ? $" [{c}]" : "");
        Option option = p.Kind switch
        {
            ParamKind.Text when withDefault && p.Default is string d => new Option<string>(p.Flag) { DefaultValueFactory = _ => d },
            ParamKind.Text => new Option<string>(p.Flag),
            ParamKind.Integer when p.Nullable => new Option<int?>(p.Flag) { DefaultValueFactory = _ => (int?)p.Default },
            ParamKind.Integer when withDefault => new Option<int>(p.Flag) { DefaultValueFactory = _ => (int)p.Default! },
            ParamKind.Integer => new Option<int>(p.Flag),
            ParamKind.Number when p.Nullable => new Option<double?>(p.Flag) { DefaultValueFactory = _ => (double?)p.Default },
            ParamKind.Number when withDefault => new Option<double>(p.Flag) { DefaultValueFactory = _ => (double)p.Default! },
            ParamKind.Number => new Option<double>(p.Flag),
            ParamKind.Flag => new Option<bool>(p.Flag),
            ParamKind.Numbers => new Option<string?>(p.Flag) { DefaultValueFactory = _ => p.Default is double[] a ? string.Join(",", a) : null },
            _ => throw new InvalidOperationException($"option {p.Key} has kind {p.Kind}"),
        };
        option.Description = description;
        return option;
    }
}
