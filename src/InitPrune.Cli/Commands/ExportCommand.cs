using System.CommandLine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Reporting;
using Spectre.Console;

namespace InitPrune.Cli.Commands;

internal static class ExportCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var source = new Argument<string?>("SPEC|STORE")
        {
            Description = "An experiment spec (YAML: exports that sweep) or a results store (a SQLite file or sqlite:PATH: exports every sweep in it, or --sweep); default: every sweep in --store",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var scale = new Option<string>("--scale") { Description = "With a spec: the scale whose runs to export (full or a scale name such as smoke)", DefaultValueFactory = _ => "full" };
        var store = new Option<string?>("--store") { Description = $"The results store: a SQLite file path or sqlite:PATH (default {ResultsStores.DefaultIn(Sweep.DefaultOut)})" };
        var sweep = new Option<string?>("--sweep") { Description = "With a store: export only this sweep (name@scale)" };
        var format = new Option<string>("--format") { Description = $"Table format: {string.Join(", ", ExportRequest.Formats)}", DefaultValueFactory = _ => "csv" };
        var outFile = new Option<string?>("--out") { Description = $"The file to write (default {Sweep.DefaultOut}/exports/<sweep>.csv)" };
        var cmd = new Command("export", "A sweep's results as one tidy table (one row per run × epoch, settings flattened into section.key columns) for notebooks");
        cmd.Add(source);
        foreach (var o in new Option[] { scale, store, sweep, format, outFile }) cmd.Add(o);
        cmd.Add(s.Device);
        cmd.Add(s.Json);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            var result = RunExport.Export(new ExportRequest(r.GetValue(source), r.GetValue(scale)!, r.GetValue(store), r.GetValue(sweep), r.GetValue(outFile), r.GetValue(format)!));
            if (r.GetValue(s.Json)) Output.Json(result);
            else Output.Human(false).WriteLine($"wrote {result.Rows} rows ({result.Runs} runs of {string.Join(", ", result.Sweeps)}) × {result.Columns.Count} columns to {result.File}");
            return 0;
        }));
        return cmd;
    }
}
