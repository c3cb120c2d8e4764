using System.CommandLine;
using InitPrune.Cli.Commands.Theory;

namespace InitPrune.Cli.Commands;

/// <summary><c>initprune theory ...</c>: the seeds' formulas, evaluated, plotted and checked by simulation.</summary>
internal static class TheoryCommand
{
    public static Command Create()
    {
        var cmd = new Command("theory", "Evaluate the seeds' theory: mean-field maps, Edge of Chaos, critical sparsity, pruning bounds, strong-ticket bounds, seed 002's Approximation 1, toy model and single-pair GD");
        foreach (var c in MeanFieldCommands.Create().Concat(SparsityCommands.Create()).Concat(ProbabilisticCommands.Create()).Concat(GapCommands.Create()).Concat(StrongTicketsCommands.Create()).Concat(ApproximationCommand.Create()).Append(JacobianGdCommand.Create()))
            cmd.Add(c);
        return cmd;
    }
}
