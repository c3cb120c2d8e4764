using System.Text;

namespace InitPrune.Tests.Engine;

/// <summary>
/// The build marks TorchSharp's GLIBCXX_3.4.32 requirement weak in the copied native library when the host's
/// libstdc++ lacks that version, and leaves the NuGet cache untouched. Read back with an ELF reader of our own.
/// </summary>
public class GlibcxxPatchTests
{
    const string Version = "GLIBCXX_3.4.32";

    static string? HostLibStdCxx() =>
        new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/usr/lib/aarch64-linux-gnu" }
            .Select(d => Path.Combine(d, "libstdc++.so.6")).FirstOrDefault(File.Exists);

    /// <summary>vna_flags of the Vernaux entry naming <see cref="Version"/>, or null when there is none.</summary>
    static ushort? VernauxFlags(string path)
    {
        var b = File.ReadAllBytes(path);
        long shoff = BitConverter.ToInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A), shnum = BitConverter.ToUInt16(b, 0x3C);
        for (int s = 0; s < shnum; s++)
        {
            int sh = (int)(shoff + s * shentsize);
            if (BitConverter.ToUInt32(b, sh + 4) != 0x6ffffffe) continue; // SHT_GNU_verneed
            int off = (int)BitConverter.ToInt64(b, sh + 0x18);
            int strtab = (int)BitConverter.ToInt64(b, (int)(shoff + BitConverter.ToUInt32(b, sh + 0x28) * shentsize) + 0x18);
            for (int vn = off; ; vn += (int)BitConverter.ToUInt32(b, vn + 12))
            {
                int aux = vn + (int)BitConverter.ToUInt32(b, vn + 8);
                for (int a = 0; a < BitConverter.ToUInt16(b, vn + 2); a++, aux += (int)BitConverter.ToUInt32(b, aux + 12))
                {
                    int name = strtab + (int)BitConverter.ToUInt32(b, aux + 8);
                    int end = Array.IndexOf(b, (byte)0, name);
                    if (Encoding.ASCII.GetString(b, name, end - name) == Version) return BitConverter.ToUInt16(b, aux + 4);
                }
                if (BitConverter.ToUInt32(b, vn + 12) == 0) break;
            }
        }
        return null;
    }

    [Fact]
    public void CopiedLibraryIsWeakExactlyWhenTheHostLacksTheVersion()
    {
        var copy = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        Assert.NotEmpty(copy);
        var host = HostLibStdCxx();
        Assert.NotNull(host);
        bool hostHas = Encoding.ASCII.GetString(File.ReadAllBytes(host!)).Contains(Version + "\0");
        foreach (var lib in copy)
        {
            var flags = VernauxFlags(lib);
            Assert.NotNull(flags);
            Assert.Equal(!hostHas, (flags!.Value & 0x2) != 0);
        }
    }

    [Fact]
    public void NuGetCacheCopyIsUntouched()
    {
        var home = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetEnvironmentVariable("HOME")!, ".nuget", "packages");
        var cached = Path.Combine(home, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(cached), cached);
        Assert.Equal(0, VernauxFlags(cached)!.Value & 0x2);
    }
}
