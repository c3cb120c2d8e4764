using System.CommandLine;
using InitPrune.Experiments.Sweeps;

namespace InitPrune.Cli.Commands;

internal static class StoreCommand
{
    const string Locations = "a SQLite file path, sqlite:PATH, postgres://user@host[:port]/database or Host=…;Username=…;Database=… (password from PGPASSWORD or ~/.pgpass)";

    public static Command Create()
    {
        var cmd = new Command("store", "Move sweeps between results stores (SQLite ↔ PostgreSQL), every run with its epochs, pruning record and results, unchanged");
        cmd.Add(Transfer("export", "Copy sweeps from --store into the store --to names (created when absent)", export: true));
        cmd.Add(Transfer("import", "Copy sweeps from the store SOURCE names into --store (created when absent)", export: false));
        return cmd;
    }

    static Command Transfer(string name, string description, bool export)
    {
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout" };
        var store = new Option<string?>("--store") { Description = $"The results store {(export ? "to copy from" : "to copy into")}: {Locations} (default {ResultsStores.DefaultIn(Sweep.DefaultOut)})" };
        var sweeps = new Option<string[]>("--sweep") { Description = "Copy only this sweep (name@scale); repeat for several (default: every sweep)", AllowMultipleArgumentsPerToken = false };
        var cmd = new Command(name, description);
        Option<string>? to = null;
        Argument<string>? source = null;
        if (export)
        {
            to = new Option<string>("--to") { Description = $"The results store to copy into: {Locations}", Required = true };
            cmd.Add(to);
        }
        else
        {
            source = new Argument<string>("SOURCE") { Description = $"The results store to copy from: {Locations}" };
            cmd.Add(source);
        }
        cmd.Add(store);
        cmd.Add(sweeps);
        cmd.Add(json);
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            var here = r.GetValue(store) ?? ResultsStores.DefaultIn(Sweep.DefaultOut);
            var result = export
                ? StoreTransfer.Copy(here, r.GetValue(to!)!, r.GetValue(sweeps), "--store", "--to")
                : StoreTransfer.Copy(r.GetValue(source!)!, here, r.GetValue(sweeps), "SOURCE", "--store");
            if (r.GetValue(json)) Output.Json(result);
            else
                Console.WriteLine($"copied {result.Sweeps.Count} sweep(s) ({string.Join(", ", result.Sweeps)}), {result.Runs} runs" +
                    (result.RunsAlreadyThere > 0 ? $" ({result.RunsAlreadyThere} already there, kept)" : "") +
                    $", {result.Epochs} epochs and {result.JacobianPoints} ‖J‖ points from {result.From} to {result.To}");
            return 0;
        }));
        return cmd;
    }
}
