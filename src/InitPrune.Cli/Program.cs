using System.CommandLine;
using InitPrune.Cli.Commands;

var root = new RootCommand("InitPrune: prune neural networks at initialization (random, magnitude, SNIP), train them, and check them against the theory.")
{
    QuickstartCommand.Create(),
    PruneCommand.Create(),
    TrainCommand.Create(),
    BenchCommand.Create(),
    TheoryCommand.Create(),
};
return root.Parse(args).Invoke();
