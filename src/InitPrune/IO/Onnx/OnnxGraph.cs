using System.Runtime.InteropServices;

namespace InitPrune.IO.Onnx;

/// <summary>
/// An ONNX graph being built (nodes in topological order, initializers, one input and one output) and its encoding
/// as a ModelProto. Field numbers are those of onnx/onnx.proto (proto2, package onnx):
/// ModelProto ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8;
/// OperatorSetIdProto domain 1, version 2;
/// GraphProto node 1, name 2, initializer 5, input 11, output 12;
/// NodeProto input 1, output 2, name 3, op_type 4, attribute 5;
/// AttributeProto name 1, f 2, i 3, s 4, ints 8, type 20 (AttributeType FLOAT 1, INT 2, STRING 3, INTS 7);
/// TensorProto dims 1, data_type 2 (DataType FLOAT 1, INT64 7), name 8, raw_data 9 (little-endian);
/// ValueInfoProto name 1, type 2; TypeProto tensor_type 1; TypeProto.Tensor elem_type 1, shape 2;
/// TensorShapeProto dim 1; TensorShapeProto.Dimension dim_value 1, dim_param 2.
/// </summary>
internal sealed class OnnxGraph
{
    const int Float32 = 1, Int64 = 7;

    readonly List<Node> nodes = [];
    readonly List<ProtoMessage> initializers = [];
    readonly HashSet<string> names = [];
    readonly Dictionary<string, string> constants = [];

    /// <summary>A node; its attributes are (name, value) with value a long, float, string or long[].</summary>
    public sealed record Node(string OpType, string Name, string[] Inputs, string[] Outputs, (string Name, object Value)[] Attributes);

    public IReadOnlyList<Node> Nodes => nodes;

    /// <summary>Number of float parameters stored as initializers, and how many of them are exactly zero.</summary>
    public long Parameters { get; private set; }
    public long Zeros { get; private set; }

    /// <summary>A fresh value name starting with <paramref name="stem"/>.</summary>
    public string Fresh(string stem)
    {
        var name = stem;
        for (int i = 1; !names.Add(name); i++) name = $"{stem}_{i}";
        return name;
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Add(string opType, string stem, string[] inputs, params (string, object)[] attributes)
    {
        var output = Fresh(stem);
        nodes.Add(new Node(opType, output, inputs, [output], attributes));
        return output;
    }

    /// <summary>Renames the output of the last node (the graph's output).</summary>
    public void RenameLastOutput(string name)
    {
        var last = nodes[^1];
        names.Add(name);
        nodes[^1] = last with { Outputs = [name] };
    }

    /// <summary>A float32 initializer (row-major <paramref name="values"/> of shape <paramref name="dims"/>).</summary>
    public string Floats(string name, float[] values, long[] dims)
    {
        name = Fresh(name);
        Parameters += values.Length;
        Zeros += values.Count(v => v == 0);
        initializers.Add(Tensor(name, Float32, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
        return name;
    }

    /// <summary>A shared int64 constant (1-D), stored once whatever the number of uses.</summary>
    public string Ints(params long[] values)
    {
        var key = "i:" + string.Join(",", values);
        if (constants.TryGetValue(key, out var existing)) return existing;
        var name = Fresh($"const_{string.Join("_", values.Select(v => v < 0 ? $"m{-v}" : v == long.MaxValue ? "end" : $"{v}"))}");
        initializers.Add(Tensor(name, Int64, [values.Length], MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
        return constants[key] = name;
    }

    /// <summary>A shared float32 scalar constant.</summary>
    public string Scalar(float value)
    {
        var key = $"f:{BitConverter.SingleToUInt32Bits(value)}";
        if (constants.TryGetValue(key, out var existing)) return existing;
        var name = Fresh("const_scalar");
        initializers.Add(Tensor(name, Float32, [], BitConverter.GetBytes(value)));
        return constants[key] = name;
    }

    /// <summary>The ModelProto of this graph, with float32 input and output of the given shapes (null: the symbolic batch size).</summary>
    public ProtoMessage Model(string graphName, string input, long?[] inputShape, string output, long?[] outputShape,
        long irVersion, long opset, string producer, string producerVersion)
    {
        var graph = new ProtoMessage();
        foreach (var n in nodes) graph.Message(1, Encode(n));
        graph.String(2, graphName);
        foreach (var t in initializers) graph.Message(5, t);
        graph.Message(11, ValueInfo(input, inputShape));
        graph.Message(12, ValueInfo(output, outputShape));
        return new ProtoMessage()
            .Int(1, irVersion)
            .String(2, producer)
            .String(3, producerVersion)
            .Message(7, graph)
            .Message(8, new ProtoMessage().String(1, "").Int(2, opset));
    }

    static ProtoMessage Tensor(string name, int dataType, long[] dims, byte[] raw)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian; this machine is not");
        var t = new ProtoMessage();
        foreach (var d in dims) t.Int(1, d);
        return t.Int(2, dataType).String(8, name).Bytes(9, raw);
    }

    static ProtoMessage Encode(Node n)
    {
        var m = new ProtoMessage();
        foreach (var i in n.Inputs) m.String(1, i);
        foreach (var o in n.Outputs) m.String(2, o);
        m.String(3, n.Name).String(4, n.OpType);
        foreach (var (name, value) in n.Attributes)
        {
            var a = new ProtoMessage().String(1, name);
            switch (value)
            {
                case float f: a.Float(2, f).Int(20, 1); break;
                case long i: a.Int(3, i).Int(20, 2); break;
                case string s: a.String(4, s).Int(20, 3); break;
                case long[] ints:
                    foreach (var i in ints) a.Int(8, i);
                    a.Int(20, 7);
                    break;
                default: throw new InvalidOperationException($"attribute {name} has an unsupported type {value.GetType().Name}");
            }
            m.Message(5, a);
        }
        return m;
    }

    static ProtoMessage ValueInfo(string name, long?[] shape)
    {
        var dims = new ProtoMessage();
        foreach (var d in shape)
            dims.Message(1, d is { } v ? new ProtoMessage().Int(1, v) : new ProtoMessage().String(2, "batch"));
        var tensorType = new ProtoMessage().Int(1, Float32).Message(2, dims);
        return new ProtoMessage().String(1, name).Message(2, new ProtoMessage().Message(1, tensorType));
    }
}
