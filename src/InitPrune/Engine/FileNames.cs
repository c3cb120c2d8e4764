using System.Security.Cryptography;
using System.Text;

namespace InitPrune.Engine;

/// <summary>
/// Turns names that come from specs and results stores (sweep keys, row labels, axis names and values) into single
/// file names: never a path separator, never a leading '.' or a "..", no control characters, bounded length.
/// </summary>
public static class FileNames
{
    /// <summary>The longest file name <see cref="Safe"/> returns by default.</summary>
    public const int MaxLength = 64;

    const int HashDigits = 8;

    /// <summary>
    /// <paramref name="name"/> itself when it is already a safe file name of at most <paramref name="maxLength"/>
    /// characters: ASCII letters, digits, '.', '_', '-' and '@', not starting with '.' or '-', no "..". Otherwise
    /// a readable form (other characters become '-', runs of '-' collapse) cut to fit, followed by '-' and the first
    /// 8 hex digits of the name's SHA-256, so two different names give different file names.
    /// </summary>
    public static string Safe(string name, int maxLength = MaxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2 * HashDigits);
        if (IsSafe(name) && name.Length <= maxLength) return name;
        var sb = new StringBuilder(Math.Min(name.Length, maxLength));
        foreach (var ch in name)
        {
            var c = Allowed(ch) ? ch : '-';
            if (c == '-' && sb.Length > 0 && sb[^1] == '-') continue;
            if (c == '.' && sb.Length > 0 && sb[^1] == '.') c = '-';
            sb.Append(c);
        }
        var head = sb.ToString().TrimStart('.', '-');
        head = head[..Math.Min(head.Length, maxLength - HashDigits - 1)].TrimEnd('-');
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..HashDigits];
        return head.Length == 0 ? hash : $"{head}-{hash}";
    }

    /// <summary>Whether <paramref name="name"/> is returned unchanged by <see cref="Safe"/> (length aside).</summary>
    public static bool IsSafe(string name) =>
        name.Length > 0 && name[0] is not ('.' or '-') && name.All(Allowed) && !name.Contains("..", StringComparison.Ordinal);

    static bool Allowed(char ch) => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '_' or '-' or '@';
}
