package dev.clip4j.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A small builder of one ONNX graph (opset 17, the ONNX protobuf messages of {@code ai.onnx.proto.OnnxMl}): modules
 * write their inference forward into it ({@code onnx(graph, x)} beside {@code forward(x)}), each op returning the
 * name of its output. Weights are float32 initializers declared as external data and handed to ONNX Runtime as the
 * libtorch tensors themselves ({@link #weights}, for {@code SessionOptions.addExternalInitializers}): the serialised
 * graph holds no weight and no weight is copied, so a model on this backend costs its weights' memory once. An int8
 * model's linear layers become ONNX Runtime's {@code com.microsoft.DynamicQuantizeMatMul} over their int8 values
 * ({@link #quantizedMatMul}).
 */
public final class OnnxGraph {
    /** LayerNormalization is an ONNX op from opset 17; ONNX Runtime 1.22 runs up to opset 22. */
    static final int OPSET = 17;
    /** IR version 8 (ONNX 1.13), the version that opset 17 came with. */
    private static final int IR_VERSION = 8;

    /** ONNX Runtime's own ops' domain (DynamicQuantizeMatMul). */
    private static final String MICROSOFT = "com.microsoft";

    private final OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder();
    /** The external initializers by name: float32, int8 or uint8 contiguous tensors, independent of any memory scope. */
    private final Map<String, Tensor> weights = new LinkedHashMap<>();
    private int counter;

    /** Whether int8 weights go in as int8 (this CPU has VNNI) or as uint8 ({@link #quantizedMatMul}). */
    private final boolean signedWeights;

    public OnnxGraph(String name) {
        this(name, !dev.clip4j.torch.QuantizedLinear.reducedRange());
    }

    /** With int8 weights as int8 ({@code signedWeights}) or uint8 whatever the CPU (tests run both). */
    OnnxGraph(String name, boolean signedWeights) {
        graph.setName(name);
        this.signedWeights = signedWeights;
    }

    /** A fresh value name. */
    private String name(String prefix) {
        return prefix + "_" + counter++;
    }

    /** A graph input: float32 or int64, each dim a {@code Long} size or a {@code String} named (dynamic) size. */
    public String input(String name, boolean int64, Object... dims) {
        graph.addInput(valueInfo(name, int64, dims));
        return name;
    }

    /** Names {@code value} as a graph output (through an Identity, so any value can become one). */
    public void output(String value, String name, Object... dims) {
        graph.addNode(OnnxMl.NodeProto.newBuilder().setOpType("Identity").setName(name(name)).addInput(value).addOutput(name));
        graph.addOutput(valueInfo(name, false, dims));
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name, boolean int64, Object... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (Object d : dims) {
            OnnxMl.TensorShapeProto.Dimension.Builder dim = OnnxMl.TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String s) dim.setDimParam(s);
            else dim.setDimValue(((Number) d).longValue());
            shape.addDim(dim);
        }
        int type = (int64 ? OnnxMl.TensorProto.DataType.INT64 : OnnxMl.TensorProto.DataType.FLOAT).getNumber();
        return OnnxMl.ValueInfoProto.newBuilder().setName(name)
                .setType(OnnxMl.TypeProto.newBuilder().setTensorType(
                        OnnxMl.TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape)))
                .build();
    }

    /**
     * A float32 initializer holding {@code t}'s values (any float dtype, any layout; float32 contiguous tensors, such as
     * a model's parameters, are used as they are, not copied). Declared as external data that
     * {@link #weights} supplies.
     */
    public String weight(Tensor t) {
        return external(Tensors.to(t.detach(), DType.F32).contiguous());
    }

    /**
     * An initializer declared as external data, {@code t} (float32, int8 or uint8, contiguous) supplying it through a
     * handle of the graph's own, independent of every memory scope, that the session closes ({@link OnnxSession#close}).
     */
    private String external(Tensor t) {
        Tensor c = Scope.escape(t.detach());
        DType type = Tensors.dtype(c);
        OnnxMl.TensorProto.DataType onnxType = switch (type) {
            case F32 -> OnnxMl.TensorProto.DataType.FLOAT;
            case I8 -> OnnxMl.TensorProto.DataType.INT8;
            case U8 -> OnnxMl.TensorProto.DataType.UINT8;
            default -> throw new IllegalArgumentException("no external initializer of " + type);
        };
        String n = name("w");
        OnnxMl.TensorProto.Builder p = OnnxMl.TensorProto.newBuilder().setName(n)
                .setDataType(onnxType.getNumber())
                .setDataLocation(OnnxMl.TensorProto.DataLocation.EXTERNAL)
                .addExternalData(entry("location", "clip4j-weights"))
                .addExternalData(entry("offset", "0"))
                .addExternalData(entry("length", Long.toString(c.numel() * type.bytes)));
        for (long d : Tensors.shape(c)) p.addDims(d);
        graph.addInitializer(p);
        weights.put(n, c);
        return n;
    }

    private static OnnxMl.StringStringEntryProto entry(String key, String value) {
        return OnnxMl.StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /**
     * The weights to hand to ONNX Runtime by name ({@link #weight}): handles of the graph's own, to keep alive as long
     * as the session and close with it.
     */
    public Map<String, Tensor> weights() {
        return weights;
    }

    /**
     * {@code x @ W.T + b} for an int8 linear layer, on rows [N, in]: ONNX Runtime's
     * {@code com.microsoft.DynamicQuantizeMatMul}, which quantizes x per call to uint8 from its own min/max (full
     * 8 bits, as libtorch with VNNI) and multiplies in int32 by MLAS's kernels with the layer's per-column scales,
     * reading the int8 values in place. Where the CPU lacks VNNI ({@link #signedWeights}), the values go in as uint8
     * with zero point 128 (the same numbers): MLAS's uint8·int8 kernels there add pairs of products in saturating
     * 16-bit lanes ({@code vpmaddubsw}), its uint8·uint8 ones widen first and cannot overflow.
     */
    public String quantizedMatMul(String x, dev.clip4j.torch.QuantizedLinear.Weights w) {
        long out = w.scales().size(0);
        String values, zeroPoint;
        if (signedWeights) {
            values = external(w.values());
            zeroPoint = external(Tensors.zeros(DType.I8, out));
        } else {
            values = external(Tensors.to(dev.clip4j.torch.Ops.add(Tensors.to(w.values(), DType.F32), 128.0), DType.U8));
            zeroPoint = external(Tensors.to(Tensors.full(128, DType.F32, out), DType.U8));
        }
        OnnxMl.NodeProto.Builder node = OnnxMl.NodeProto.newBuilder().setOpType("DynamicQuantizeMatMul")
                .setDomain(MICROSOFT).setName(name("DynamicQuantizeMatMul"))
                .addInput(x).addInput(values).addInput(external(w.scales())).addInput(zeroPoint);
        if (w.bias() != null) node.addInput(external(w.bias()));
        String y = name("dynamicquantizematmul");
        graph.addNode(node.addOutput(y));
        return y;
    }

    /** A float32 constant of the given values and shape. */
    public String floats(float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return initializer(OnnxMl.TensorProto.DataType.FLOAT, shape, ByteString.copyFrom(b.array()));
    }

    /** A float32 scalar constant. */
    public String scalar(double v) {
        return floats(new float[] {(float) v});
    }

    /** A 1-D int64 constant (shapes, axes, split sizes). */
    public String longs(long... values) {
        return longsShaped(values, values.length);
    }

    /** An int64 constant of the given shape ({@code new long[0]} dims: a scalar). */
    public String longsShaped(long[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) b.putLong(v);
        return initializer(OnnxMl.TensorProto.DataType.INT64, shape, ByteString.copyFrom(b.array()));
    }

    private String initializer(OnnxMl.TensorProto.DataType type, long[] shape, ByteString raw) {
        String n = name("w");
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(n).setDataType(type.getNumber()).setRawData(raw);
        for (long d : shape) t.addDims(d);
        graph.addInitializer(t);
        return n;
    }

    /** An op with one output and no attributes. */
    public String op(String type, String... inputs) {
        return op(type, Map.of(), inputs);
    }

    /**
     * An op with one output; attributes are {@code Long}/{@code Integer} (int), {@code Double}/{@code Float} (float) or
     * {@code long[]} (ints).
     */
    public String op(String type, Map<String, Object> attributes, String... inputs) {
        return ops(type, 1, attributes, inputs)[0];
    }

    /** An op with {@code outputs} outputs (Split). */
    public String[] ops(String type, int outputs, Map<String, Object> attributes, String... inputs) {
        OnnxMl.NodeProto.Builder node = OnnxMl.NodeProto.newBuilder().setOpType(type).setName(name(type));
        for (String in : inputs) node.addInput(in);
        String[] out = new String[outputs];
        for (int i = 0; i < outputs; i++) node.addOutput(out[i] = name(type.toLowerCase(java.util.Locale.ROOT)));
        attributes.forEach((k, v) -> node.addAttribute(attribute(k, v)));
        graph.addNode(node);
        return out;
    }

    private static OnnxMl.AttributeProto attribute(String name, Object v) {
        OnnxMl.AttributeProto.Builder a = OnnxMl.AttributeProto.newBuilder().setName(name);
        if (v instanceof Long || v instanceof Integer) {
            a.setType(OnnxMl.AttributeProto.AttributeType.INT).setI(((Number) v).longValue());
        } else if (v instanceof Double || v instanceof Float) {
            a.setType(OnnxMl.AttributeProto.AttributeType.FLOAT).setF(((Number) v).floatValue());
        } else if (v instanceof long[] ints) {
            a.setType(OnnxMl.AttributeProto.AttributeType.INTS);
            for (long i : ints) a.addInts(i);
        } else {
            throw new IllegalArgumentException("attribute " + name + ": unsupported value " + v);
        }
        return a.build();
    }

    // the ops the towers use, named as ONNX names them

    public String add(String a, String b) {
        return op("Add", a, b);
    }

    public String mul(String a, String b) {
        return op("Mul", a, b);
    }

    public String matmul(String a, String b) {
        return op("MatMul", a, b);
    }

    public String reshape(String x, long... shape) {
        return op("Reshape", x, longs(shape));
    }

    /**
     * {@code x} reshaped to {@code dims}, each a {@code Long}/{@code Integer} size (-1: inferred) or the name of an
     * int64 [1] value holding a size known only when the graph runs ({@link #size}).
     */
    public String reshapeTo(String x, Object... dims) {
        java.util.List<String> parts = new java.util.ArrayList<>();
        java.util.List<Long> fixed = new java.util.ArrayList<>();
        for (Object d : dims) {
            if (d instanceof Number n) {
                fixed.add(n.longValue());
                continue;
            }
            if (!fixed.isEmpty()) parts.add(longs(fixed.stream().mapToLong(Long::longValue).toArray()));
            fixed.clear();
            parts.add((String) d);
        }
        if (!fixed.isEmpty()) parts.add(longs(fixed.stream().mapToLong(Long::longValue).toArray()));
        String shape = parts.size() == 1 ? parts.get(0) : op("Concat", Map.of("axis", 0L), parts.toArray(String[]::new));
        return op("Reshape", x, shape);
    }

    /** {@code x}'s size along {@code axis} when the graph runs: an int64 [1] value, for {@link #reshapeTo}. */
    public String size(String x, long axis) {
        return narrow(op("Shape", x), 0, axis, 1);
    }

    /** {@code x.narrow(axis, 0, length)} with {@code length} an int64 [1] value ({@link #size}). */
    public String narrow(String x, long axis, String length) {
        return op("Slice", x, longs(0), length, longs(axis));
    }

    public String transpose(String x, long... perm) {
        return op("Transpose", Map.of("perm", perm), x);
    }

    public String softmax(String x) {
        return op("Softmax", Map.of("axis", -1L), x);
    }

    /** {@code x[..., index, ...]} along {@code axis} with the index dimension dropped ({@code indices}: a scalar or [N]). */
    public String gather(String x, String indices, long axis) {
        return op("Gather", Map.of("axis", axis), x, indices);
    }

    /** {@code x.narrow(axis, start, length)}. */
    public String narrow(String x, long axis, long start, long length) {
        return op("Slice", x, longs(start), longs(start + length), longs(axis));
    }

    /** Splits the last axis into {@code parts} equal parts. */
    public String[] splitLast(String x, int parts, long partSize) {
        long[] sizes = new long[parts];
        java.util.Arrays.fill(sizes, partSize);
        return ops("Split", parts, Map.of("axis", -1L), x, longs(sizes));
    }

    /** The files, beside the model's, that {@link #writeTo} puts the GEMM weights and the other weights in. */
    static final String GEMM_WEIGHTS_FILE = "gemm-weights.bin", OTHER_WEIGHTS_FILE = "other-weights.bin";
    /** Each weight starts on a page of its own, so ONNX Runtime can map it as it lies. */
    private static final long WEIGHT_ALIGNMENT = 4096;
    /** The ops whose second input ONNX Runtime's CPU kernels pack when it is a constant (the GEMMs' B). */
    private static final java.util.Set<String> PACKING_OPS = java.util.Set.of("Gemm", "MatMul", "DynamicQuantizeMatMul");

    /**
     * Writes the model as {@code model.onnx} in {@code dir} with its weights beside it as ONNX external data, for a
     * session that owns its weights ({@link OnnxSession#owning}); returns the model file. ONNX Runtime maps each weight
     * from its file and unmaps a GEMM weight once it has packed it; the GEMM weights get a file of their own so that
     * no mapping of the others keeps that file alive once deleted (on a tmpfs, its pages would stay in memory). The
     * graph's handles stay open.
     */
    Path writeTo(dev.clip4j.io.ScratchDirectory dir) throws IOException {
        java.util.Set<String> packed = new java.util.HashSet<>();
        for (OnnxMl.NodeProto n : graph.getNodeList()) if (PACKING_OPS.contains(n.getOpType()) && n.getInputCount() > 1) packed.add(n.getInput(1));
        OnnxMl.GraphProto.Builder located = graph.clone();
        try (FileChannel gemm = FileChannel.open(dir.file(GEMM_WEIGHTS_FILE), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             FileChannel other = FileChannel.open(dir.file(OTHER_WEIGHTS_FILE), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long[] end = {0, 0}; // where the next weight goes in each file
            for (OnnxMl.TensorProto.Builder init : located.getInitializerBuilderList()) {
                Tensor t = weights.get(init.getName());
                if (t == null) continue; // a small constant, inside the model
                int file = packed.contains(init.getName()) ? 0 : 1;
                long at = (end[file] + WEIGHT_ALIGNMENT - 1) / WEIGHT_ALIGNMENT * WEIGHT_ALIGNMENT;
                init.clearExternalData()
                        .addExternalData(entry("location", file == 0 ? GEMM_WEIGHTS_FILE : OTHER_WEIGHTS_FILE))
                        .addExternalData(entry("offset", Long.toString(at)))
                        .addExternalData(entry("length", Long.toString(t.numel() * Tensors.dtype(t).bytes)));
                end[file] = write(file == 0 ? gemm : other, t, at);
            }
        }
        Path modelFile = dir.file("model.onnx");
        Files.write(modelFile, model(located).toByteArray(), StandardOpenOption.CREATE_NEW);
        return modelFile;
    }

    /** Writes {@code t}'s bytes at {@code at}; returns where they end. */
    private static long write(FileChannel out, Tensor t, long at) throws IOException {
        long[] position = {at};
        try {
            Tensors.forEachBytes(t, chunk -> {
                try {
                    while (chunk.hasRemaining()) position[0] += out.write(chunk, position[0]);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        return position[0];
    }

    /** The serialised model (its structure and small constants; the weights are external). */
    public byte[] toBytes() {
        return model(graph).toByteArray();
    }

    private static OnnxMl.ModelProto model(OnnxMl.GraphProto.Builder graph) {
        return OnnxMl.ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("clip4j")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain(MICROSOFT).setVersion(1))
                .setGraph(graph)
                .build();
    }
}
