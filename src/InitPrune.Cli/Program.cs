using System.CommandLine;
using InitPrune.Cli.Commands;

var root = new RootCommand("InitPrune: prune neural networks at initialization (random, magnitude, SNIP), train them, check them against theory.")
{
    QuickstartCommand.Create(),
    PruneCommand.Create(),
    TrainCommand.Create(),
    BenchCommand.Create(),
};
return root.Parse(args).Invoke();
