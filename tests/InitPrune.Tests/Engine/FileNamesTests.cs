using InitPrune.Engine;

namespace InitPrune.Tests.Engine;

public class FileNamesTests
{
    [Theory]
    [InlineData("fig3@smoke")]
    [InlineData("SNIP")]
    [InlineData("depth-10_0.5")]
    public void A_safe_name_is_kept_as_it_is(string name) => Assert.Equal(name, FileNames.Safe(name));

    [Theory]
    [InlineData("/tmp/x/abs-evil@full")]
    [InlineData("../../../../evil-out@full")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData(".hidden")]
    [InlineData("-rf")]
    [InlineData("a\\b")]
    [InlineData("a\0b\nc\u0007")]
    [InlineData("")]
    [InlineData("EOC + rescaling")]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("über")]
    public void An_unsafe_name_becomes_one_safe_file_name_with_a_hash(string name)
    {
        var safe = FileNames.Safe(name);

        Assert.True(FileNames.IsSafe(safe), safe);
        Assert.Equal(safe, Path.GetFileName(safe));
        Assert.DoesNotContain("..", safe);
        Assert.InRange(safe.Length, 8, FileNames.MaxLength);
        Assert.Matches("(^|-)[0-9a-f]{8}$", safe);
    }

    [Fact]
    public void A_long_name_is_cut_to_the_limit_and_keeps_a_readable_head()
    {
        var name = new string('k', 300) + "@full";

        var safe = FileNames.Safe(name);

        Assert.Equal(FileNames.MaxLength, safe.Length);
        Assert.StartsWith(new string('k', 55) + "-", safe);
        Assert.Equal(120, FileNames.Safe(name, 120).Length);
    }

    [Fact]
    public void Different_names_never_share_a_file_name()
    {
        // Names that map to the same readable form: only the hash tells them apart.
        string[] names =
        [
            "a b", "a-b", "a/b", "a\\b", "a..b", "a.-b", "a\tb", "a  b", "a--b", ".a-b", "-a-b", "a-b-",
            new string('x', 64), new string('x', 65), new string('x', 66), new string('x', 64) + "/", "EOC", "eoc",
        ];

        var safe = names.Select(n => FileNames.Safe(n)).ToList();

        Assert.Equal(names.Length, safe.Distinct().Count());
    }
}
