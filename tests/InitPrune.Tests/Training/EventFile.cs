using System.Text;

namespace InitPrune.Tests.Training;

/// <summary>
/// An independent reader of TensorBoard event files: TFRecord framing (little-endian length, masked CRC-32C of the
/// length, data, masked CRC-32C of the data; the CRC computed bit by bit here) and a generic protobuf decoder, with
/// the field numbers of tensorflow/core/util/event.proto, summary.proto and the HParams plugin's protos.
/// </summary>
internal static class EventFile
{
    /// <summary>A decoded protobuf message: each field number's values (ulong varints, fixed64/fixed32 as ulong/uint, byte[] for length-delimited).</summary>
    public sealed class Msg(Dictionary<int, List<object>> fields)
    {
        public IReadOnlyList<object> All(int field) => fields.TryGetValue(field, out var v) ? v : [];
        public bool Has(int field) => fields.ContainsKey(field);
        public ulong Varint(int field) => (ulong)All(field).Single();
        public double Double(int field) => BitConverter.UInt64BitsToDouble((ulong)All(field).Single());
        public float Float(int field) => BitConverter.UInt32BitsToSingle((uint)All(field).Single());
        public string String(int field) => Encoding.UTF8.GetString((byte[])All(field).Single());
        public Msg Message(int field) => Decode((byte[])All(field).Single());
        public IEnumerable<Msg> Messages(int field) => All(field).Select(b => Decode((byte[])b));

        public double[] PackedDoubles(int field)
        {
            var bytes = (byte[])All(field).Single();
            return [.. Enumerable.Range(0, bytes.Length / 8).Select(i => BitConverter.ToDouble(bytes, 8 * i))];
        }
    }

    /// <summary>One event: wall time, step, and the summary's values (tag → value message) or the file version.</summary>
    public sealed record Event(double WallTime, long Step, string? FileVersion, IReadOnlyList<(string Tag, Msg Value)> Values);

    public static List<Event> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<Event>();
        int at = 0;
        while (at < bytes.Length)
        {
            var header = bytes.AsSpan(at, 8);
            Assert.Equal(MaskedCrc(header), BitConverter.ToUInt32(bytes, at + 8));
            int length = checked((int)BitConverter.ToUInt64(bytes, at));
            var data = bytes.AsSpan(at + 12, length);
            Assert.Equal(MaskedCrc(data), BitConverter.ToUInt32(bytes, at + 12 + length));
            at += 16 + length;
            var e = Decode(data.ToArray());
            var values = e.Has(5) ? e.Message(5).Messages(1).Select(v => (v.String(1), v)).ToList() : [];
            events.Add(new Event(e.Double(1), e.Has(2) ? (long)e.Varint(2) : 0, e.Has(3) ? e.String(3) : null, values));
        }
        return events;
    }

    /// <summary>The scalars of <paramref name="tag"/> as (step, value), in file order.</summary>
    public static List<(long Step, float Value)> Scalars(IEnumerable<Event> events, string tag) =>
        [.. events.SelectMany(e => e.Values.Where(v => v.Tag == tag).Select(v => (e.Step, v.Value.Float(2))))];

    /// <summary>The HParams plugin data (HParamsPluginData) under <paramref name="tag"/>; checks the plugin name and version 0.</summary>
    public static Msg HParams(IEnumerable<Event> events, string tag)
    {
        var value = events.SelectMany(e => e.Values).Single(v => v.Tag == tag).Value;
        var plugin = value.Message(9).Message(1);
        Assert.Equal("hparams", plugin.String(1));
        var data = Decode((byte[])plugin.All(2).Single());
        Assert.Equal(0UL, data.Has(1) ? data.Varint(1) : 0UL);
        return data;
    }

    /// <summary>The session start's hyper-parameters: name → string, double or bool.</summary>
    public static Dictionary<string, object> SessionHParams(IEnumerable<Event> events) =>
        HParams(events, "_hparams_/session_start_info").Message(3).Messages(1).ToDictionary(entry => entry.String(1), entry =>
        {
            var v = entry.Message(2);
            return v.Has(2) ? v.Double(2) : v.Has(3) ? v.String(3) : v.Has(4) ? (object)(v.Varint(4) != 0) : throw new InvalidDataException("empty hparam value");
        });

    public static Msg Decode(byte[] bytes)
    {
        var fields = new Dictionary<int, List<object>>();
        int at = 0;
        while (at < bytes.Length)
        {
            var key = ReadVarint(bytes, ref at);
            int field = (int)(key >> 3);
            object value = (key & 7) switch
            {
                0 => ReadVarint(bytes, ref at),
                1 => BitConverter.ToUInt64(bytes, (at += 8) - 8),
                5 => BitConverter.ToUInt32(bytes, (at += 4) - 4),
                2 => Slice(bytes, ref at),
                var wire => throw new InvalidDataException($"wire type {wire}"),
            };
            if (!fields.TryGetValue(field, out var list)) fields[field] = list = [];
            list.Add(value);
        }
        return new Msg(fields);
    }

    static byte[] Slice(byte[] bytes, ref int at)
    {
        int length = checked((int)ReadVarint(bytes, ref at));
        var slice = bytes[at..(at + length)];
        at += length;
        return slice;
    }

    static ulong ReadVarint(byte[] bytes, ref int at)
    {
        ulong v = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = bytes[at++];
            v |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return v;
        }
    }

    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) bit by bit, masked as TFRecord does.</summary>
    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
        }
        crc = ~crc;
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8;
    }
}
