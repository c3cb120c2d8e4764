using System.CommandLine;
using System.Globalization;
using InitPrune.Experiments;
using Spectre.Console;
using InitPrune.Training;

namespace InitPrune.Cli.Commands;

internal static class TrainCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var mask = new Option<string?>("--mask") { Description = "Mask (.safetensors, e.g. from 'initprune prune') to apply before training" };
        var fixedMultiplier = new Option<string?>("--fixed-multiplier") { Description = "rescale.safetensors from 'prune --rescale eoc-fixed': train as if those factors were fixed multipliers of the weights (start from weights.pruned.safetensors via --init-from)" };
        var epochs = new Option<int>("--epochs") { Description = "Epochs", DefaultValueFactory = _ => 3 };
        var batch = new Option<int>("--batch-size") { Description = "Mini-batch size", DefaultValueFactory = _ => 100 };
        var lr = new Option<double>("--lr") { Description = "Learning rate", DefaultValueFactory = _ => 0.05 };
        var momentum = new Option<double>("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => 0.9 };
        var nesterov = new Option<bool>("--nesterov") { Description = "Nesterov momentum" };
        var wd = new Option<double>("--weight-decay") { Description = "L2 weight decay", DefaultValueFactory = _ => 0.0 };
        var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule: none, step (× gamma at each milestone), cosine", DefaultValueFactory = _ => "cosine" };
        var milestones = new Option<string?>("--milestones") { Description = "Epochs at which the step schedule multiplies the rate by gamma (default: 1/2 and 3/4 of training)" };
        var gamma = new Option<double>("--gamma") { Description = "Factor of the step schedule", DefaultValueFactory = _ => 0.1 };
        var augment = new Option<string>("--augment") { Description = "Data augmentation of images: none, or crop-flip (random crop with 4-pixel zero padding and horizontal flip, seeded)", DefaultValueFactory = _ => "none" };
        var tensorboard = new Option<string?>("--tensorboard") { Description = "Write TensorBoard event files to this folder" };
        var outDir = s.Out("./initprune-out/train");
        var cmd = new Command("train", "Train a model (optionally masked by a pruning mask); writes metrics.json after every epoch and final.safetensors");
        s.AddData(cmd); s.AddModel(cmd);
        foreach (var o in new Option[] { mask, fixedMultiplier, epochs, batch, lr, momentum, nesterov, wd, schedule, milestones, gamma, augment, tensorboard, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var config = new TrainConfig(r.GetValue(epochs), r.GetValue(batch), r.GetValue(lr), r.GetValue(momentum), r.GetValue(nesterov),
                r.GetValue(wd), r.GetValue(schedule)!, Shared.ParseList(r.GetValue(milestones), "--milestones", int.Parse), r.GetValue(gamma),
                TensorBoardDir: r.GetValue(tensorboard), Augment: r.GetValue(augment)!);
            var options = new TrainOptions(r.GetValue(s.Dataset)!, s.ModelSpec(r), s.InitSpec(r), config, r.GetValue(s.Seed),
                r.GetValue(s.DataDir), r.GetValue(s.InitFrom), r.GetValue(mask), r.GetValue(fixedMultiplier));
            var console = Output.Human(json);
            var dir = r.GetValue(outDir)!;
            var summary = Output.WithProgress(console, Output.Interactive(json), hook => TrainJob.Run(options, dir, hook));
            if (json) Output.Json(summary);
            else console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"final test loss {summary.FinalTestLoss:0.0000}{(summary.FinalTestAccuracy is { } a ? $", test accuracy {100 * a:0.00}%" : "")}; wrote metrics.json and final.safetensors to {Path.GetFullPath(dir)}"));
            return 0;
        }));
        return cmd;
    }
}
