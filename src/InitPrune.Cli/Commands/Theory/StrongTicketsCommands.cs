using System.CommandLine;

namespace InitPrune.Cli.Commands.Theory;

/// <summary>`initprune theory` subcommands for this area.</summary>
internal static class StrongTicketsCommands
{
    public static IEnumerable<Command> Create() => [];
}
