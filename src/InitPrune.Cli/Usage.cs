using System.CommandLine;
using System.CommandLine.Parsing;

namespace InitPrune.Cli;

/// <summary>The one line printed for a command line that does not parse: what is wrong, the closest valid name, where the help is.</summary>
internal static class Usage
{
    public static string Describe(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        var path = CommandPath(parsed.CommandResult);
        var help = $"{path} --help lists the {(command.Subcommands.Count > 0 ? "commands" : "options")}";
        if (parsed.UnmatchedTokens.FirstOrDefault() is { } token)
        {
            if (token.StartsWith('-'))
            {
                var options = AllOptions(parsed.CommandResult).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--"));
                return $"unknown option '{token}' for '{command.Name}'{Suggest(token.Split('=')[0], options)} ({help})";
            }
            if (command.Subcommands.Count > 0)
                return $"unknown command '{token}' for '{command.Name}'{Suggest(token, command.Subcommands.Select(c => c.Name))} ({help})";
            return $"unexpected argument '{token}' for '{command.Name}' ({help})";
        }
        var message = parsed.Errors[0].Message.TrimEnd('.');
        return $"{char.ToLowerInvariant(message[0])}{message[1..]} ({help})";
    }

    /// <summary>"; did you mean 'x'?" for the closest name within a few edits, else nothing.</summary>
    static string Suggest(string typed, IEnumerable<string> names)
    {
        var best = names.Distinct().Select(n => (Name: n, Distance: Distance(typed, n))).OrderBy(p => p.Distance).ThenBy(p => p.Name, StringComparer.Ordinal).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(1, typed.Length / 3) ? $"; did you mean '{best.Name}'?" : "";
    }

    static IEnumerable<Option> AllOptions(CommandResult result)
    {
        for (SymbolResult? r = result; r is not null; r = r.Parent)
            if (r is CommandResult c)
                foreach (var o in c.Command.Options.Where(o => ReferenceEquals(c, result) || o.Recursive))
                    yield return o;
    }

    static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
            if (r is CommandResult c) names.Insert(0, c.Command.Name);
        return string.Join(' ', names);
    }

    /// <summary>Edit distance: insertions, deletions, substitutions and swaps of neighbours ("eco" is one edit from "eoc").</summary>
    static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
