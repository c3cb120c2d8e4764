using System.Globalization;
using System.Numerics;
using System.Text;
using InitPrune.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Training;

/// <summary>
/// Writes a TensorBoard event file as TensorBoard's own writer does: named
/// <c>events.out.tfevents.&lt;unix seconds, 10 digits&gt;.&lt;host&gt;.&lt;pid&gt;.&lt;n&gt;</c>, TFRecord framing (length,
/// masked CRC-32C of the length, Event protobuf, masked CRC-32C of the data), a first event holding the file version,
/// then scalars, histograms and the HParams plugin's summaries (experiment, session start and end, as
/// <c>torch.utils.tensorboard</c>'s <c>add_hparams</c> writes them) so runs can be filtered by their settings.
/// Every event is flushed as it is written.
/// </summary>
public sealed class TensorBoardWriter : IDisposable
{
    static int uid;
    readonly FileStream file;

    /// <summary>Creates <paramref name="logDir"/> and a new event file in it.</summary>
    public TensorBoardWriter(string logDir)
    {
        Directory.CreateDirectory(logDir);
        var now = DateTimeOffset.UtcNow;
        var host = FileNames.Safe(System.Net.Dns.GetHostName());
        Path = System.IO.Path.Combine(logDir, FormattableString.Invariant(
            $"events.out.tfevents.{now.ToUnixTimeSeconds():D10}.{host}.{Environment.ProcessId}.{Interlocked.Increment(ref uid)}"));
        file = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        Write(new Proto().String(3, "brain.Event:2"), step: 0);
    }

    /// <summary>The event file.</summary>
    public string Path { get; }

    /// <summary>The tag of the HParams plugin's experiment summary (as TensorBoard's <c>plugins.hparams.metadata</c>).</summary>
    public const string ExperimentTag = "_hparams_/experiment";
    public const string SessionStartTag = "_hparams_/session_start_info";
    public const string SessionEndTag = "_hparams_/session_end_info";

    public void AddScalar(string tag, double value, long step) =>
        Write(new Proto().Message(5, new Proto().Message(1, new Proto().String(1, tag).Float(2, (float)value))), step);

    /// <summary>A histogram of <paramref name="values"/> in <paramref name="bins"/> equal bins from their minimum to their maximum.</summary>
    public void AddHistogram(string tag, IReadOnlyList<double> values, long step, int bins = 30)
    {
        if (values.Count == 0) return;
        double min = values.Min(), max = values.Max();
        int n = max > min ? Math.Min(bins, values.Count) : 1;
        var counts = new double[n];
        var limits = Enumerable.Range(1, n).Select(i => i == n ? max : min + (max - min) * i / n).ToArray();
        foreach (var v in values) counts[max > min ? Math.Min(n - 1, (int)((v - min) / (max - min) * n)) : 0]++;
        var histo = new Proto().Double(1, min).Double(2, max).Double(3, values.Count).Double(4, values.Sum())
            .Double(5, values.Sum(v => v * v)).PackedDoubles(6, limits).PackedDoubles(7, counts);
        Write(new Proto().Message(5, new Proto().Message(1, new Proto().String(1, tag).Message(5, histo))), step);
    }

    /// <summary>
    /// The run's hyper-parameters for the HParams plugin: an experiment listing them and <paramref name="metrics"/>
    /// (scalar tags of this run), and the session start holding the values (strings, numbers, booleans; null values
    /// are left out, arrays become comma-separated text).
    /// </summary>
    public void AddHParams(IReadOnlyList<KeyValuePair<string, object?>> hparams, IReadOnlyList<string> metrics)
    {
        var given = hparams.Where(kv => kv.Value is not null).Select(kv => (kv.Key, Value: HParamValue(kv.Value!))).ToList();
        var experiment = new Proto();
        foreach (var (key, value) in given)
            experiment.Message(4, new Proto().String(1, key).Varint(4, value.Type));
        foreach (var m in metrics)
            experiment.Message(5, new Proto().Message(1, new Proto().String(2, m)));
        WritePlugin(ExperimentTag, new Proto().Message(2, experiment));
        var start = new Proto();
        foreach (var (key, value) in given)
            start.Message(1, new Proto().String(1, key).Message(2, value.Proto));
        start.Double(5, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        WritePlugin(SessionStartTag, new Proto().Message(3, start));
    }

    /// <summary>The HParams plugin's session end: status success (1) or failure (2).</summary>
    public void EndSession(bool success) =>
        WritePlugin(SessionEndTag, new Proto().Message(4, new Proto().Varint(1, success ? 1UL : 2UL).Double(2, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0)));

    /// <summary>
    /// Per-layer sparsity of <paramref name="model"/>'s masked tensors at <paramref name="step"/>: a scalar
    /// <c>sparsity/&lt;tensor&gt;</c> each, a histogram <c>sparsity/layers</c> over tensors, and a histogram
    /// <c>kept_per_unit/&lt;tensor&gt;</c> of the fraction of each output unit's weights kept.
    /// </summary>
    public void AddSparsity(nn.Module model, long step)
    {
        var layers = new List<double>();
        foreach (var t in Models.Network.Masked(model))
        {
            if (t.Mask is not { } mask) continue;
            using var scope = NewDisposeScope();
            var kept = mask.ne(0).to(ScalarType.Float64);
            double sparsity = 1 - kept.mean().item<double>();
            layers.Add(sparsity);
            AddScalar("sparsity/" + t.Name, sparsity, step);
            if (!t.IsBias) AddHistogram("kept_per_unit/" + t.Name, kept.reshape(kept.shape[0], -1).mean([1]).cpu().data<double>().ToArray(), step);
        }
        AddHistogram("sparsity/layers", layers, step);
    }

    static (ulong Type, Proto Proto) HParamValue(object value) => value switch
    {
        bool b => (2, new Proto().Varint(4, b ? 1UL : 0UL)),
        int or long or float or double => (3, new Proto().Double(2, Convert.ToDouble(value, CultureInfo.InvariantCulture))),
        double[] a => (1, new Proto().String(3, string.Join(",", a.Select(x => x.ToString("R", CultureInfo.InvariantCulture))))),
        _ => (1, new Proto().String(3, Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")),
    };

    void WritePlugin(string tag, Proto data)
    {
        var content = new Proto().Varint(1, 0).Append(data);
        var metadata = new Proto().Message(1, new Proto().String(1, "hparams").Bytes(2, content.ToArray()));
        Write(new Proto().Message(5, new Proto().Message(1, new Proto().String(1, tag).Message(9, metadata))), step: 0);
    }

    void Write(Proto body, long step)
    {
        var evt = new Proto().Double(1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0).Varint(2, (ulong)step).Append(body).ToArray();
        var length = BitConverter.GetBytes((ulong)evt.Length);
        if (!BitConverter.IsLittleEndian) Array.Reverse(length);
        file.Write(length);
        file.Write(LittleEndian(MaskedCrc(length)));
        file.Write(evt);
        file.Write(LittleEndian(MaskedCrc(evt)));
        file.Flush();
    }

    static byte[] LittleEndian(uint x)
    {
        var b = BitConverter.GetBytes(x);
        if (!BitConverter.IsLittleEndian) Array.Reverse(b);
        return b;
    }

    /// <summary>TFRecord's masked CRC-32C.</summary>
    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (var b in data) crc = BitOperations.Crc32C(crc, b);
        crc = ~crc;
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8;
    }

    public void Dispose() => file.Dispose();

    /// <summary>A protobuf message being encoded (fields in the order written).</summary>
    sealed class Proto
    {
        readonly MemoryStream bytes = new();

        public Proto Varint(int field, ulong value) => Tag(field, 0).Raw(value);
        public Proto Double(int field, double value) => Tag(field, 1).Fixed(BitConverter.DoubleToUInt64Bits(value), 8);
        public Proto Float(int field, float value) => Tag(field, 5).Fixed(BitConverter.SingleToUInt32Bits(value), 4);
        public Proto String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));
        public Proto Message(int field, Proto value) => Bytes(field, value.ToArray());

        public Proto Bytes(int field, byte[] value)
        {
            Tag(field, 2).Raw((ulong)value.Length);
            bytes.Write(value);
            return this;
        }

        public Proto PackedDoubles(int field, double[] values)
        {
            var packed = new Proto();
            foreach (var v in values) packed.Fixed(BitConverter.DoubleToUInt64Bits(v), 8);
            return Bytes(field, packed.ToArray());
        }

        public Proto Append(Proto other)
        {
            bytes.Write(other.ToArray());
            return this;
        }

        public byte[] ToArray() => bytes.ToArray();

        Proto Tag(int field, int wire) => Raw((ulong)(field << 3 | wire));

        Proto Raw(ulong value)
        {
            while (value >= 0x80)
            {
                bytes.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            bytes.WriteByte((byte)value);
            return this;
        }

        Proto Fixed(ulong value, int size)
        {
            for (int i = 0; i < size; i++) bytes.WriteByte((byte)(value >> (8 * i)));
            return this;
        }
    }
}
