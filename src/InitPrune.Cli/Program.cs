using System.CommandLine;
using System.CommandLine.Help;
using InitPrune.Cli;
using InitPrune.Cli.Commands;

// A named command rather than RootCommand, whose name is the executable's (InitPrune.Cli): the user types `initprune`.
var root = new Command("initprune", "InitPrune: prune neural networks at initialization, train them, run sweeps with paper-style reports, and check them against the theory.")
{
    new HelpOption(),
    new VersionOption(),
    QuickstartCommand.Create(),
    PruneCommand.Create(),
    TrainCommand.Create(),
    BenchCommand.Create(),
    TheoryCommand.Create(),
    SweepCommand.Create(),
    ReportCommand.Create(),
    ExportCommand.Create(),
    InferCommand.Create(),
    OnnxCommand.Create(),
    ConvertCommand.Create(),
    TicketCommand.Create(),
    PlantCommand.Create(),
    JacobianCommand.Create(),
    StoreCommand.Create(),
};
var parsed = root.Parse(args.Length == 0 ? ["--help"] : args);
if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
{
    Console.Error.WriteLine($"error: {Usage.Describe(parsed)}");
    return ExitCodes.BadInput;
}
return parsed.Invoke();
