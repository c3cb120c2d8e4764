using System.CommandLine;
using InitPrune.IO;

namespace InitPrune.Cli.Commands;

/// <summary><c>initprune convert</c>: weights (and a mask) from one file format and layout to another, for PyTorch code.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var weights = new Argument<string>("WEIGHTS") { Description = "Weights to convert: .safetensors or PyTorch .pt/.pth, plain or torch.nn.utils.prune (X.weight_orig + X.weight_mask) or Synaptic-Flow (X.weight + X.weight_mask) layout" };
        var mask = new Option<string?>("--mask") { Description = "Mask to apply (.safetensors or .pt, e.g. the mask prune wrote); default: the masks WEIGHTS carries" };
        var layout = new Option<string>("--layout") { Description = "plain (weights only, pruned entries 0) or torch-prune (X.weight_orig + X.weight_mask, what a module after torch.nn.utils.prune.identity(module, 'weight') loads with strict=True)", DefaultValueFactory = _ => "plain" };
        var format = new Option<string>("--format") { Description = "safetensors or pt (a zip checkpoint torch.load reads)", DefaultValueFactory = _ => "safetensors" };
        var output = new Option<string>("--out") { Description = "The file to write", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout" };
        var cmd = new Command("convert", "Convert weights and masks between safetensors and PyTorch .pt, and between the plain and torch.nn.utils.prune layouts")
        {
            weights, mask, layout, format, output, json,
        };
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            var summary = StateDictLayout.Convert(r.GetValue(weights)!, r.GetValue(output)!, StateDictLayout.Parse(r.GetValue(layout)!),
                CheckpointFormat.Parse(r.GetValue(format)!, "--format"), r.GetValue(mask));
            if (r.GetValue(json)) Output.Json(summary);
            else Console.WriteLine($"wrote {summary.Tensors} tensors ({summary.Layout} layout, {summary.Masked} masked, {summary.Format}) from {summary.Input} ({summary.InputLayout} layout) to {Path.GetFullPath(summary.Output)}");
            return 0;
        }));
        return cmd;
    }
}
