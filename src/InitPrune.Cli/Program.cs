using System.CommandLine;
using InitPrune.Cli.Commands;

var root = new RootCommand("InitPrune: prune neural networks at initialization, train them, run sweeps with paper-style reports, and check them against the theory.")
{
    QuickstartCommand.Create(),
    PruneCommand.Create(),
    TrainCommand.Create(),
    BenchCommand.Create(),
    TheoryCommand.Create(),
    SweepCommand.Create(),
    ReportCommand.Create(),
};
return root.Parse(args).Invoke();
