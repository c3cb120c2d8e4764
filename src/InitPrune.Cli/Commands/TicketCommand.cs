using System.CommandLine;
using System.Globalization;
using InitPrune.Engine;
using InitPrune.Experiments;
using InitPrune.Tickets;
using Spectre.Console;

namespace InitPrune.Cli.Commands;

/// <summary><c>initprune ticket</c>: edge-popup (seed 004) finds a strong ticket; its options come from <see cref="TicketSettings"/>.</summary>
internal static class TicketCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var ticket = new Declared(Param.Of(typeof(TicketSettings)), "", "sparsity");
        ticket.Options.First().Required = true;
        var outDir = s.Out("./initprune-out/ticket");
        var tensorboard = new Option<string?>("--tensorboard") { Description = "Write TensorBoard event files to this folder (per epoch: kept fraction, λ, scale, train and test loss, test accuracy, lr)" };
        var cmd = new Command("ticket", "Find a strong lottery ticket with edge-popup (scores for weights and biases, annealing, optional Lemma 2 rescaling; seed 004): only scores are trained, the weights stay at their initialization. Writes mask.safetensors (weights and biases), weights.safetensors, scores.safetensors and summary.json");
        s.AddData(cmd);
        s.AddModel(cmd);
        ticket.AddTo(cmd);
        cmd.Add(outDir);
        cmd.Add(tensorboard);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var config = ticket.Build<TicketSettings>(r).ToConfig();
            config.Validate();
            var options = new TicketOptions(s.DatasetName(r), s.ModelSpec(r), s.InitSpec(r), config, r.GetValue(s.Seed), r.GetValue(s.DataDir), r.GetValue(s.InitFrom),
                r.GetValue(tensorboard));
            var console = Output.Human(json);
            var dir = r.GetValue(outDir)!;
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"edge-popup{(config.Scaled ? "-scaled" : "")}: --sparsity {config.Sparsity:g4} removes that fraction, so seed 004's ρ (fraction kept) is {config.KeptFraction:g4}"));
            var summary = Output.WithTicketProgress(console, Output.Interactive(json), config.Epochs, hook => TicketJob.Run(options, dir, hook));
            if (json)
            {
                Output.Json(summary);
                return 0;
            }
            Output.LayerTable(console, summary.Layers);
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"kept {summary.KeptWeights:N0} of {summary.TotalWeights:N0} weights and {summary.KeptBiases:N0} of {summary.TotalBiases:N0} biases; output scale {summary.Scale:g4}; final test loss {summary.FinalTestLoss:0.0000}{(summary.FinalTestAccuracy is { } a ? $", test accuracy {100 * a:0.00}%" : "")}"));
            console.WriteLine($"wrote {string.Join(", ", summary.Files.Values)} to {Path.GetFullPath(dir)}");
            return 0;
        }));
        return cmd;
    }
}
