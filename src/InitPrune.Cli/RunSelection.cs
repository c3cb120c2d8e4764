using System.CommandLine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Reporting;

namespace InitPrune.Cli;

/// <summary>
/// Which stored runs a command reads (<c>report</c>, <c>export</c>), declared once: a spec or a store (argument),
/// <c>--scale</c>, <c>--store</c> and <c>--sweep</c>, read as a <see cref="ReportRequest"/>.
/// </summary>
internal sealed class RunSelection
{
    public readonly Argument<string?> Source;
    public readonly Option<string> Scale;
    public readonly Option<string?> Store = new("--store") { Description = $"The results store: a SQLite file path, sqlite:PATH or postgres://user@host[:port]/database (default {ResultsStores.DefaultIn(InitPrune.Experiments.Sweeps.Sweep.DefaultOut)})" };
    public readonly Option<string?> Sweep;

    /// <param name="verb">What the command does with the runs, in the help ("report", "export").</param>
    public RunSelection(string verb)
    {
        Source = new("SPEC|STORE")
        {
            Description = $"An experiment spec (YAML: {verb}s that sweep) or a results store (a SQLite file, sqlite:PATH or postgres://…: {verb}s every sweep in it, or --sweep); default: every sweep in --store",
            Arity = ArgumentArity.ZeroOrOne,
        };
        Scale = new("--scale") { Description = $"With a spec: the scale whose runs to {verb} (full or a scale name such as smoke)", DefaultValueFactory = _ => "full" };
        Sweep = new("--sweep") { Description = $"With a store: {verb} only this sweep (name@scale)" };
    }

    public void AddTo(Command command)
    {
        command.Add(Source);
        foreach (var o in new Option[] { Scale, Store, Sweep }) command.Add(o);
    }

    /// <summary>The selection as a request; <paramref name="outPath"/> and <paramref name="artifacts"/> are the command's own.</summary>
    public ReportRequest Read(ParseResult r, string? outPath = null, string? artifacts = null) =>
        new(r.GetValue(Source), r.GetValue(Scale)!, r.GetValue(Store), r.GetValue(Sweep), outPath, artifacts);
}
