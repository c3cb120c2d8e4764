using System.CommandLine;
using System.Globalization;
using InitPrune.IO.Onnx;
using Spectre.Console;

namespace InitPrune.Cli.Commands;

/// <summary>
/// <c>initprune export-onnx</c>: a network (weights, optional mask, the model options of train and prune) as an ONNX
/// model (opset 17) with the mask applied; the work is <see cref="OnnxExport.WriteFromFiles"/>.
/// </summary>
internal static class OnnxCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var weights = new Option<string>("--weights") { Description = "Weights (.safetensors or PyTorch .pt/.pth, e.g. weights.safetensors from prune or final.safetensors from train; BatchNorm running statistics are taken when present)", Required = true };
        var mask = new Option<string?>("--mask") { Description = "Mask to apply (.safetensors or .pt, e.g. mask.safetensors from prune); default: the masks the weights file carries" };
        var output = new Option<string>("--out") { Description = "The .onnx file to write", Required = true };
        var cmd = new Command("export-onnx", $"Export a (pruned) network as an ONNX model (IR {OnnxExport.IrVersion}, opset {OnnxExport.Opset}, eval mode, weights ⊙ mask, input float32 [batch, sample shape] named '{OnnxExport.InputName}', output '{OnnxExport.OutputName}') for ONNX Runtime and other runtimes");
        s.Dataset.AddTo(cmd);
        s.Model.AddTo(cmd);
        cmd.Add(s.Widths);
        cmd.Add(weights);
        cmd.Add(mask);
        cmd.Add(output);
        cmd.Add(s.Json);
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            bool json = r.GetValue(s.Json);
            var summary = OnnxExport.WriteFromFiles(s.DatasetName(r), s.ModelSpec(r), r.GetValue(weights)!, r.GetValue(mask), r.GetValue(output)!);
            if (json)
            {
                Output.Json(summary);
                return ExitCodes.Ok;
            }
            var console = Output.Human(json);
            foreach (var w in summary.Warnings) Output.Warn(console, w);
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {summary.File} (opset {summary.Opset}, {summary.Nodes} nodes: {string.Join(", ", summary.Operators)}; {summary.Parameters} parameters, {summary.ZeroParameters} of them zero; input [{string.Join(",", summary.InputShape)}], -1 = batch)"));
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
