using System.CommandLine;

namespace InitPrune.Cli.Commands.Theory;

/// <summary>`initprune theory` subcommands for this area.</summary>
internal static class SparsityCommands
{
    public static IEnumerable<Command> Create() => [];
}
