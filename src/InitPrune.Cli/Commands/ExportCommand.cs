using System.CommandLine;
using System.Globalization;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Inference;
using InitPrune.Reporting;
using Spectre.Console;

namespace InitPrune.Cli.Commands;

/// <summary>
/// <c>initprune export</c>: a sweep's results as a table, or (with <c>--weights</c> or <c>--run</c>) a pruned MLP as a
/// compact sparse model file for <c>infer</c>.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var selection = new RunSelection("export");
        var format = new Option<string?>("--format") { Description = $"Table format: {string.Join(" or ", ExportRequest.Formats)} (default: parquet when --out ends in .parquet, else csv)" };
        var table = new Option<string>("--table") { Description = "epochs: one row per run × epoch; jacobian: one row per run × ‖J‖ measurement (train.jacobian_every)", DefaultValueFactory = _ => "epochs" };
        var outFile = new Option<string?>("--out") { Description = $"The file to write (default {Sweep.DefaultOut}/exports/<sweep>.csv or .parquet; a sparse model: model.sparse.safetensors beside the weights, or in the run's folder)" };
        var weights = new Option<string?>("--weights") { Description = "Sparse model export: the trained weights of an MLP (mlp, lenet300) or a conv net (vcnn, vggN, vggN-bn, conv2|4|6|8, resnetN), .safetensors or .pt (e.g. train's final.safetensors)" };
        var mask = new Option<string?>("--mask") { Description = "Sparse model export: the mask (e.g. prune's mask.safetensors; default: the mask the weights carry, else their zeros)" };
        var model = new Option<string>("--model") { Description = "Sparse model export with --weights: the model the weights are (mlp, lenet300, vcnn, vggN, vggN-bn or resnetN)", DefaultValueFactory = _ => "mlp" };
        var activation = new Option<string>("--activation") { Description = "Sparse model export with --weights: the activation φ between layers", DefaultValueFactory = _ => "relu" };
        var padding = new Option<string>("--padding") { Description = "Sparse model export of a conv net with --weights: its padding mode (zeros or circular)", DefaultValueFactory = _ => "zeros" };
        var inputShape = new Option<string?>("--input-shape") { Description = "Sparse model export of a conv net with --weights: the shape C,H,W of one sample (e.g. 1,28,28 for Fashion-MNIST, 3,32,32 for CIFAR)" };
        var stable = new Option<bool>("--stable") { Description = "Sparse model export of a ResNet with --weights: a Stable ResNet (branches scaled by 1/sqrt(number of blocks), folded into the file; the weights do not say)" };
        var shortcut = new Option<string?>("--shortcut") { Description = "Sparse model export of a ResNet with --weights: its shortcut where the shape changes, a or b (default: as the weights show; checked against them)" };
        var run = new Option<string?>("--run") { Description = "Sparse model export of a sweep run: its id (or 6+ leading hex digits) in the store SPEC|STORE/--store names; reads runs/<id>/final.safetensors and mask.safetensors under --artifacts" };
        var artifacts = new Option<string?>("--artifacts") { Description = $"With --run: the sweep's artefact folder (default {Sweep.DefaultOut})" };
        var denseAbove = new Option<double>("--dense-above") { Description = "Sparse model export: store a layer dense when its kept density is above this (CSR otherwise)", DefaultValueFactory = _ => SparseExport.DefaultDenseAbove };
        var cmd = new Command("export", "A sweep's results as one tidy table (one row per run × epoch, settings flattened into section.key columns) for notebooks; " +
            "or, with --weights (and --mask) or --run, a pruned MLP, conv net or ResNet as a compact sparse model file (CSR layers, BatchNorm folded, dead units and channels removed) that 'initprune infer' runs");
        selection.AddTo(cmd);
        cmd.Add(format);
        cmd.Add(table);
        cmd.Add(outFile);
        foreach (var o in new Option[] { weights, mask, model, activation, padding, inputShape, stable, shortcut, run, artifacts, denseAbove }) cmd.Add(o);
        cmd.Add(s.Device);
        cmd.Add(s.Json);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            static bool Given(ParseResult r, Option o) => r.GetResult(o) is { Implicit: false };
            bool json = r.GetValue(s.Json);
            bool modelMode = Given(r, weights) || Given(r, run);
            if (string.Equals(r.GetValue(format), "onnx", StringComparison.OrdinalIgnoreCase))
                throw new InitPruneException("ONNX has its own command, which takes the model options of train and prune: initprune export-onnx --model … --weights W --mask M --out model.onnx");
            if (!modelMode)
            {
                var modelOnly = new Option[] { mask, model, activation, padding, inputShape, stable, shortcut, artifacts, denseAbove }.FirstOrDefault(o => Given(r, o));
                if (modelOnly is not null)
                    throw new InitPruneException($"{modelOnly.Name} belongs to the sparse model export: give --weights or --run with it (a results table takes SPEC|STORE, --store, --sweep, --table, --format)");
                var runs = selection.Read(r);
                var result = RunExport.Export(new ExportRequest(runs.Source, runs.Scale, runs.Store, runs.Sweep, r.GetValue(outFile), r.GetValue(format), r.GetValue(table)!));
                if (json) Output.Json(result);
                else Output.Human(false).WriteLine($"wrote {result.Rows} rows ({result.Runs} runs of {string.Join(", ", result.Sweeps)}) × {result.Columns.Count} columns to {result.File}");
                return 0;
            }
            if (Given(r, weights) && Given(r, run))
                throw new InitPruneException("give either --weights (with --mask) or --run, not both: --run reads the run's own weights and mask");
            var tableOnly = new Option[] { format, table }.FirstOrDefault(o => Given(r, o));
            if (tableOnly is not null)
                throw new InitPruneException($"{tableOnly.Name} belongs to the results table export, not to the sparse model export (--weights/--run)");
            SparseExportResult exported;
            if (r.GetValue(run) is { } id)
            {
                if (new Option[] { model, activation, mask, padding, inputShape, stable, shortcut }.Any(o => Given(r, o)))
                    throw new InitPruneException("--run takes the model, activation, padding, input shape, ResNet settings and mask from the run itself: leave out --model, --activation, --padding, --input-shape, --stable, --shortcut and --mask");
                exported = SparseExport.ExportRun(selection.Read(r, artifacts: r.GetValue(artifacts)), id, r.GetValue(outFile), r.GetValue(denseAbove));
            }
            else
            {
                var runs = selection.Read(r);
                if (runs.Source is not null || runs.Store is not null || runs.Sweep is not null || Given(r, artifacts) || Given(r, selection.Scale))
                    throw new InitPruneException("--weights exports one model: a results store or spec (SPEC|STORE, --store, --sweep, --scale, --artifacts) goes with --run or with the table export, not with --weights");
                exported = SparseExport.Export(new SparseExportRequest(r.GetValue(weights)!, r.GetValue(mask), r.GetValue(model)!, r.GetValue(activation)!, r.GetValue(outFile), r.GetValue(denseAbove),
                    r.GetValue(inputShape) is { } shape ? SparseExport.ParseShape(shape) : null, Padding: r.GetValue(padding)!,
                    Shortcut: SparseExport.ParseShortcut(r.GetValue(shortcut)), Stable: r.GetValue(stable)));
            }
            if (json) Output.Json(exported);
            else Summary(Output.Human(false), exported);
            return 0;
        }));
        return cmd;
    }

    static void Summary(IAnsiConsole console, SparseExportResult e)
    {
        var t = new Table().AddColumns("layer", "storage", "shape", "dense shape", "kept weights", "stored", "density", "units removed", "biases folded");
        foreach (var l in e.Layers)
        {
            t.AddRow(l.Name, l.Storage, $"{l.OutFeatures}×{l.InFeatures}", $"{l.OriginalOutFeatures}×{l.OriginalInFeatures}", l.KeptWeights.ToString(CultureInfo.InvariantCulture),
                l.StoredWeights.ToString(CultureInfo.InvariantCulture), l.Density.ToString("P1", CultureInfo.InvariantCulture), l.UnitsRemoved.ToString(CultureInfo.InvariantCulture),
                l.BiasesFolded.ToString(CultureInfo.InvariantCulture));
        }
        console.Write(t);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {e.File}: {e.Bytes:N0} bytes against {e.DenseBytes:N0} for the dense safetensors ({e.SizeRatio:P1}); {e.StoredParameters:N0} parameters stored, {e.KeptParameters:N0} kept by the mask, {e.DenseParameters:N0} dense"));
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"dead-unit removal: {e.UnitsRemoved} hidden units or channels removed, {e.ParametersSavedByRemoval:N0} parameters saved"));
    }
}
