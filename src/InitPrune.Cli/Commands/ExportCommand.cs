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
        var selection = new RunSelection("export");
        var format = new Option<string?>("--format") { Description = $"Table format: {string.Join(" or ", ExportRequest.Formats)} (default: parquet when --out ends in .parquet, else csv)" };
        var table = new Option<string>("--table") { Description = "epochs: one row per run × epoch; jacobian: one row per run × ‖J‖ measurement (train.jacobian_every)", DefaultValueFactory = _ => "epochs" };
        var outFile = new Option<string?>("--out") { Description = $"The file to write (default {Sweep.DefaultOut}/exports/<sweep>.csv or .parquet)" };
        var cmd = new Command("export", "A sweep's results as one tidy table (one row per run × epoch, settings flattened into section.key columns) for notebooks");
        selection.AddTo(cmd);
        cmd.Add(format);
        cmd.Add(table);
        cmd.Add(outFile);
        cmd.Add(s.Device);
        cmd.Add(s.Json);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            var runs = selection.Read(r);
            var result = RunExport.Export(new ExportRequest(runs.Source, runs.Scale, runs.Store, runs.Sweep, r.GetValue(outFile), r.GetValue(format), r.GetValue(table)!));
            if (r.GetValue(s.Json)) Output.Json(result);
            else Output.Human(false).WriteLine($"wrote {result.Rows} rows ({result.Runs} runs of {string.Join(", ", result.Sweeps)}) × {result.Columns.Count} columns to {result.File}");
            return 0;
        }));
        return cmd;
    }
}
