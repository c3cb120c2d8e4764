using System.CommandLine;
using System.Globalization;
using InitPrune.Engine;
using InitPrune.Experiments;
using InitPrune.Experiments.Sweeps;
using Spectre.Console;
using InitPrune.Training;

namespace InitPrune.Cli.Commands;

internal static class TrainCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var mask = new Option<string?>("--mask") { Description = "Mask (.safetensors or .pt, e.g. from 'initprune prune'; a torch.nn.utils.prune state_dict gives its weight_mask tensors) to apply before training; without it, the masks an --init-from file carries" };
        var fixedMultiplier = new Option<string?>("--fixed-multiplier") { Description = "rescale.safetensors from 'prune --rescale eoc-fixed': train as if those factors were fixed multipliers of the weights (start from weights.pruned.safetensors via --init-from)" };
        var recipe = new Declared(Param.Of(typeof(TrainSettings)).Where(p => p.Key != "pre_epochs"));
        var augment = new Declared(Param.Of(typeof(DataSettings)).Where(p => p.Key == "augment"));
        var tensorboard = new Option<string?>("--tensorboard") { Description = "Write TensorBoard event files to this folder" };
        var outDir = s.Out("./initprune-out/train");
        var cmd = new Command("train", "Train a model (optionally masked by a pruning mask); writes metrics.json after every epoch and final.safetensors");
        s.AddData(cmd); s.AddModel(cmd);
        cmd.Add(mask);
        cmd.Add(fixedMultiplier);
        recipe.AddTo(cmd);
        augment.AddTo(cmd);
        cmd.Add(tensorboard);
        cmd.Add(s.SaveFormat);
        cmd.Add(outDir);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var config = recipe.Build<TrainSettings>(r).ToConfig((string)augment.Values(r)["augment"]!, r.GetValue(tensorboard));
            var options = new TrainOptions(s.DatasetName(r), s.ModelSpec(r), s.InitSpec(r), config, r.GetValue(s.Seed),
                r.GetValue(s.DataDir), r.GetValue(s.InitFrom), r.GetValue(mask), r.GetValue(fixedMultiplier), s.Format(r));
            var console = Output.Human(json);
            var dir = r.GetValue(outDir)!;
            var summary = Output.WithProgress(console, Output.Interactive(json), hook => TrainJob.Run(options, dir, hook));
            if (json) Output.Json(summary);
            else console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"final test loss {summary.FinalTestLoss:0.0000}{(summary.FinalTestAccuracy is { } a ? $", test accuracy {100 * a:0.00}%" : "")}; wrote metrics.json and {TrainJob.FinalStem}{InitPrune.IO.CheckpointFormat.Extension(options.SaveFormat)} to {Path.GetFullPath(dir)}"));
            return 0;
        }));
        return cmd;
    }
}
