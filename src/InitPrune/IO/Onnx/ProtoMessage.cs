using System.Text;

namespace InitPrune.IO.Onnx;

/// <summary>
/// A protobuf message being encoded: fields in the order added, nested messages kept as objects so that sizes are
/// computed once and the bytes (large initializers included) are written straight to the stream without copies.
/// Wire types: 0 varint, 2 length-delimited, 5 fixed32 (protobuf encoding spec).
/// </summary>
internal sealed class ProtoMessage
{
    readonly List<(int Tag, object Value)> fields = [];
    long size = -1;

    public ProtoMessage Int(int field, long value)
    {
        fields.Add((field << 3, (ulong)value));
        size = -1;
        return this;
    }

    public ProtoMessage Float(int field, float value)
    {
        fields.Add((field << 3 | 5, BitConverter.SingleToUInt32Bits(value)));
        size = -1;
        return this;
    }

    public ProtoMessage String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoMessage Bytes(int field, byte[] value) => Add(field, value);

    public ProtoMessage Message(int field, ProtoMessage value) => Add(field, value);

    ProtoMessage Add(int field, object value)
    {
        fields.Add((field << 3 | 2, value));
        size = -1;
        return this;
    }

    /// <summary>Encoded size in bytes.</summary>
    public long Size
    {
        get
        {
            if (size >= 0) return size;
            long total = 0;
            foreach (var (tag, value) in fields)
            {
                total += VarintSize((ulong)tag) + value switch
                {
                    ulong v => VarintSize(v),
                    uint => 4,
                    byte[] b => VarintSize((ulong)b.Length) + b.Length,
                    ProtoMessage m => VarintSize((ulong)m.Size) + m.Size,
                    _ => throw new InvalidOperationException("unknown field value"),
                };
            }
            return size = total;
        }
    }

    public void WriteTo(Stream stream)
    {
        foreach (var (tag, value) in fields)
        {
            WriteVarint(stream, (ulong)tag);
            switch (value)
            {
                case ulong v:
                    WriteVarint(stream, v);
                    break;
                case uint f:
                    for (int i = 0; i < 4; i++) stream.WriteByte((byte)(f >> (8 * i)));
                    break;
                case byte[] b:
                    WriteVarint(stream, (ulong)b.Length);
                    stream.Write(b);
                    break;
                case ProtoMessage m:
                    WriteVarint(stream, (ulong)m.Size);
                    m.WriteTo(stream);
                    break;
            }
        }
    }

    static int VarintSize(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }

    static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        stream.WriteByte((byte)value);
    }
}
