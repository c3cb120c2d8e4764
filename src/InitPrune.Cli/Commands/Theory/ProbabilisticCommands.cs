using System.CommandLine;

namespace InitPrune.Cli.Commands.Theory;

/// <summary>`initprune theory` subcommands for this area.</summary>
internal static class ProbabilisticCommands
{
    public static IEnumerable<Command> Create() => [];
}
