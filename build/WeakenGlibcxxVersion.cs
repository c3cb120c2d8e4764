// MSBuild task (compiled by RoslynCodeTaskFactory from build/InitPrune.targets, which this repository and the InitPrune package use).
// TorchSharp's libLibTorchSharp.so lists GLIBCXX_3.4.32 (GCC 13) for one symbol no relocation uses.
// On hosts whose libstdc++ stops earlier (Debian 12, Ubuntu 22.04) we set VER_FLG_WEAK (0x2) on that
// one Vernaux entry of the *copied* library, so glibc's loader accepts it. The NuGet cache is never touched.
using System;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class WeakenGlibcxxVersion : Task
{
    const string Version = "GLIBCXX_3.4.32";
    const ushort VerFlgWeak = 0x2;
    const uint ShtGnuVerneed = 0x6ffffffe;

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        if (HostHasVersion()) return true;
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            if (!File.Exists(path)) continue;
            try
            {
                var result = Patch(path);
                if (result == "patched") Log.LogMessage(MessageImportance.Normal, $"Marked {Version} weak in {path}");
            }
            catch (Exception e)
            {
                Log.LogWarning($"Could not mark {Version} weak in {path}: {e.Message}");
            }
        }
        return true;
    }

    static bool HostHasVersion()
    {
        string[] dirs = { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/usr/lib/aarch64-linux-gnu" };
        var lib = dirs.Select(d => Path.Combine(d, "libstdc++.so.6")).FirstOrDefault(File.Exists);
        if (lib == null) return false;
        var needle = Encoding.ASCII.GetBytes(Version + "\0");
        var bytes = File.ReadAllBytes(lib);
        for (int i = 0; i + needle.Length <= bytes.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && bytes[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }

    /// <summary>Returns "patched", "already-weak" or "absent". Writes a new file (never through a hard link).</summary>
    public static string Patch(string path)
    {
        var b = File.ReadAllBytes(path);
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
            throw new InvalidDataException("not a little-endian ELF64 file");
        long shoff = (long)BitConverter.ToUInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A), shnum = BitConverter.ToUInt16(b, 0x3C);
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (BitConverter.ToUInt32(b, (int)sh + 4) != ShtGnuVerneed) continue;
            long off = (long)BitConverter.ToUInt64(b, (int)sh + 0x18);
            uint link = BitConverter.ToUInt32(b, (int)sh + 0x28);
            long strtab = (long)BitConverter.ToUInt64(b, (int)(shoff + (long)link * shentsize) + 0x18);
            long vn = off;
            while (true)
            {
                ushort cnt = BitConverter.ToUInt16(b, (int)vn + 2);
                long aux = vn + BitConverter.ToUInt32(b, (int)vn + 8);
                for (int a = 0; a < cnt; a++)
                {
                    uint name = BitConverter.ToUInt32(b, (int)aux + 8);
                    if (ReadString(b, strtab + name) == Version)
                    {
                        ushort flags = BitConverter.ToUInt16(b, (int)aux + 4);
                        if ((flags & VerFlgWeak) != 0) return "already-weak";
                        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(b, (int)aux + 4);
                        var tmp = path + ".weak-tmp";
                        File.WriteAllBytes(tmp, b);
                        File.Delete(path);
                        File.Move(tmp, path);
                        return "patched";
                    }
                    uint nextAux = BitConverter.ToUInt32(b, (int)aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = BitConverter.ToUInt32(b, (int)vn + 12);
                if (next == 0) break;
                vn += next;
            }
        }
        return "absent";
    }

    static string ReadString(byte[] b, long at)
    {
        int end = (int)at;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)at, end - (int)at);
    }
}
