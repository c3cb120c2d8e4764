using System.Buffers.Binary;
using System.Text;
using InitPrune.Engine;
using InitPrune.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.IO;

public sealed class SafetensorsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("initprune-st-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string PathOf(string name) => Path.Combine(dir, name);

    /// <summary>
    /// The spec's layout, written out by hand: metadata first, then tensors by descending dtype (I64 before F32), each
    /// with offsets into the data; the 139-byte JSON padded with 5 spaces to 144 so that 8 + 144 is a multiple of 8.
    /// </summary>
    static byte[] GoldenFile()
    {
        const string json =
            """{"__metadata__":{"format":"pt"},"b":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}     """;
        Assert.Equal(144, json.Length);
        byte[] length = [144, 0, 0, 0, 0, 0, 0, 0];
        byte[] b = [0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];      // -3L
        byte[] a = [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0];      // 1f, -2f
        return [.. length, .. Encoding.ASCII.GetBytes(json), .. b, .. a];
    }

    /// <summary>A file from a header JSON (padded here) and raw data bytes.</summary>
    static byte[] FileOf(string json, params byte[] data)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var padded = header.Concat(Enumerable.Repeat((byte)' ', (8 - header.Length % 8) % 8)).ToArray();
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded.Length);
        return [.. length, .. padded, .. data];
    }

    [Fact]
    public void Load_reads_a_hand_written_file_to_the_exact_values()
    {
        var path = PathOf("golden.safetensors");
        File.WriteAllBytes(path, GoldenFile());

        var (tensors, metadata) = Safetensors.LoadWithMetadata(path);

        Assert.Equal(["a", "b"], tensors.Keys.Order());
        Assert.Equal(ScalarType.Float32, tensors["a"].dtype);
        Assert.Equal([2L], tensors["a"].shape);
        Assert.Equal([1f, -2f], tensors["a"].data<float>().ToArray());
        Assert.Equal(ScalarType.Int64, tensors["b"].dtype);
        Assert.Equal([1L], tensors["b"].shape);
        Assert.Equal([-3L], tensors["b"].data<long>().ToArray());
        Assert.Equal(new Dictionary<string, string> { ["format"] = "pt" }, metadata);
        Assert.Equal(Compute.Device.type, tensors["a"].device.type);
    }

    [Fact]
    public void Save_writes_the_spec_bytes_exactly()
    {
        var path = PathOf("out.safetensors");
        using var a = tensor(new[] { 1f, -2f });
        using var b = tensor(new[] { -3L });

        Safetensors.Save(path, new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b }, new Dictionary<string, string> { ["format"] = "pt" });

        Assert.Equal(GoldenFile(), File.ReadAllBytes(path));
    }

    [Fact]
    public void Save_pads_an_empty_file_header_with_spaces()
    {
        var path = PathOf("empty.safetensors");

        Safetensors.Save(path, new Dictionary<string, Tensor>());

        Assert.Equal([8, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}', 32, 32, 32, 32, 32, 32], File.ReadAllBytes(path));
        Assert.Empty(Safetensors.Load(path));
    }

    public static TheoryData<ScalarType> AllDtypes() =>
    [
        ScalarType.Float64, ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64,
        ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool,
    ];

    [Theory]
    [MemberData(nameof(AllDtypes))]
    public void Every_dtype_round_trips_with_scalar_and_empty_tensors(ScalarType dtype)
    {
        var path = PathOf($"{dtype}.safetensors");
        using var values = arange(-3, 3, dtype: ScalarType.Float64).reshape(2, 3);
        using var matrix = dtype == ScalarType.Bool ? values.gt(0) : dtype == ScalarType.Byte ? (values + 3).to(dtype) : values.to(dtype);
        using var scalar = (dtype == ScalarType.Bool ? tensor(true) : tensor(7.0)).to(dtype);
        using var none = empty(new long[] { 0, 3 }, dtype: dtype);
        var saved = new Dictionary<string, Tensor> { ["matrix"] = matrix, ["scalar"] = scalar, ["none"] = none };

        Safetensors.Save(path, saved);
        var loaded = Safetensors.Load(path);

        Assert.Equal(saved.Keys.Order(), loaded.Keys.Order());
        foreach (var (name, expected) in saved)
        {
            var actual = loaded[name];
            Assert.Equal(dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(Same(expected, actual), $"{name} differs after the round trip");
        }
        Assert.Empty(loaded["scalar"].shape);
    }

    [Fact]
    public void PyTorch_names_metadata_and_non_contiguous_tensors_survive()
    {
        var path = PathOf("model.safetensors");
        using var weight = arange(6, dtype: ScalarType.Float32).reshape(2, 3).t();
        using var bias = tensor(new[] { 0.5f, -0.25f, 8f });
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "sparsity=0.9 \"quoted\" é" };

        Safetensors.Save(path, new Dictionary<string, Tensor> { ["layers.0.weight"] = weight, ["layers.0.bias"] = bias }, metadata);
        var (tensors, readMetadata) = Safetensors.LoadWithMetadata(path);

        Assert.Equal(["layers.0.bias", "layers.0.weight"], tensors.Keys.Order());
        Assert.True(Same(weight, tensors["layers.0.weight"]));
        Assert.True(Same(bias, tensors["layers.0.bias"]));
        Assert.Equal(metadata, readMetadata);
    }

    [Fact]
    public void Save_creates_the_folder_replaces_the_file_and_leaves_no_temporary()
    {
        var path = Path.Combine(dir, "sub", "m.safetensors");
        using var first = tensor(new[] { 1f });
        using var second = tensor(new[] { 2f, 3f });

        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = first });
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = second });

        Assert.Equal([2f, 3f], Safetensors.Load(path)["w"].data<float>().ToArray());
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void Save_rejects_the_reserved_name_and_unsupported_dtypes_without_writing()
    {
        var path = PathOf("bad.safetensors");
        using var x = tensor(new[] { 1f });
        using var complex = zeros(2, dtype: ScalarType.ComplexFloat32);

        AssertOneLine(Assert.Throws<InitPruneException>(() => Safetensors.Save(path, new Dictionary<string, Tensor> { ["__metadata__"] = x })));
        AssertOneLine(Assert.Throws<InitPruneException>(() => Safetensors.Save(path, new Dictionary<string, Tensor> { ["c"] = complex })));
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Save_to_an_unwritable_place_raises_a_one_line_error()
    {
        var blocker = PathOf("not-a-folder");
        File.WriteAllText(blocker, "");
        using var x = tensor(new[] { 1f });

        var error = Assert.Throws<InitPruneException>(() => Safetensors.Save(Path.Combine(blocker, "m.safetensors"), new Dictionary<string, Tensor> { ["x"] = x }));

        AssertOneLine(error);
    }

    const string F32Pair = """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""";

    public static TheoryData<string, byte[]> BadFiles() => new()
    {
        { "shorter than 8 bytes", [1, 2, 3, 4, 5] },
        { "header length beyond the file", [.. BitConverter.GetBytes(64UL), .. "{}      "u8.ToArray()] },
        { "huge header length", [.. BitConverter.GetBytes(ulong.MaxValue), .. "{}      "u8.ToArray()] },
        { "header not JSON", FileOf("{\"a\": nope}") },
        { "header not UTF-8", [.. BitConverter.GetBytes(8UL), (byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}'] },
        { "header not an object", FileOf("[1, 2]") },
        { "tensor not an object", FileOf("""{"a":5}""") },
        { "lacks dtype", FileOf("""{"a":{"shape":[1],"data_offsets":[0,4]}}""", 0, 0, 0, 0) },
        { "lacks shape", FileOf("""{"a":{"dtype":"F32","data_offsets":[0,4]}}""", 0, 0, 0, 0) },
        { "lacks data_offsets", FileOf("""{"a":{"dtype":"F32","shape":[1]}}""", 0, 0, 0, 0) },
        { "one offset", FileOf("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}""", 0, 0, 0, 0) },
        { "unknown dtype", FileOf("""{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}""", new byte[8]) },
        { "negative dimension", FileOf("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 0, 0, 0, 0) },
        { "fractional offset", FileOf("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}}""", 0, 0, 0, 0) },
        { "offsets past the data", FileOf("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 0, 0, 0, 0) },
        { "end before begin", FileOf("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[0],"data_offsets":[4,2]}}""", 0, 0, 0, 0) },
        { "size not shape times dtype", FileOf("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", 0, 0, 0, 0) },
        { "overlapping", FileOf("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", new byte[8]) },
        { "hole between tensors", FileOf("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", new byte[12]) },
        { "hole at the start", FileOf("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", new byte[8]) },
        { "trailing bytes", FileOf(F32Pair, new byte[12]) },
        { "shape overflow", FileOf("""{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""", new byte[8]) },
        { "duplicate tensor", FileOf("""{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", 1, 2) },
        { "metadata not strings", FileOf("""{"__metadata__":{"epochs":3}}""") },
        { "bool byte not 0 or 1", FileOf("""{"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}""", 1, 2) },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Bad_files_raise_a_one_line_error_naming_the_file(string reason, byte[] bytes)
    {
        var path = PathOf($"bad {reason}.safetensors");
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<InitPruneException>(() => Safetensors.Load(path));

        AssertOneLine(error);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void The_valid_pair_used_by_bad_cases_loads()
    {
        var path = PathOf("pair.safetensors");
        File.WriteAllBytes(path, FileOf(F32Pair, new byte[8]));

        Assert.Equal(2, Safetensors.Load(path).Count);
    }

    [Fact]
    public void A_missing_file_raises_a_one_line_error_naming_it()
    {
        var path = PathOf("absent.safetensors");

        var error = Assert.Throws<InitPruneException>(() => Safetensors.LoadWithMetadata(path));

        AssertOneLine(error);
        Assert.Contains(path, error.Message);
    }

    static bool Same(Tensor expected, Tensor actual)
    {
        using var cpu = actual.cpu();
        using var equal = expected.eq(cpu).all();
        return expected.dtype == cpu.dtype && expected.shape.SequenceEqual(cpu.shape) && equal.item<bool>();
    }

    static void AssertOneLine(Exception error)
    {
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain('\r', error.Message);
    }
}
