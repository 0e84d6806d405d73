package dev.clip4j.torch;

import org.bytedeco.pytorch.Dispatcher;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.OperatorHandle;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.global.torch;

import java.util.Set;

/**
 * A linear layer with dynamically quantized int8 weights for inference, as PyTorch's
 * {@code torch.ao.nn.quantized.dynamic.Linear}: weights quantized once per output channel (symmetric, qint8, PyTorch's
 * per-channel observer), activations quantized per call from their own min/max to uint8, the product accumulated in
 * int32 and returned in float32 with the bias added.
 *
 * <p>The layer is held as plain numbers ({@link Weights}: int8 values, scales, bias) that either backend can run: on
 * libtorch, its first {@link #forward} packs them for FBGEMM (through the dispatcher's boxed calls to
 * {@code quantized::linear_prepack} / {@code quantized::linear_dynamic}: the presets map no typed entry points for
 * them; the typed legacy {@code fbgemm_linear_*} ones are deprecated, per-tensor only, and print warnings) and drops
 * the plain copy; ONNX Runtime reads the plain numbers in place ({@code OnnxGraph.quantizedMatMul}). So a layer costs
 * one byte per weight on either backend, never both packings.
 *
 * <p>Activations use 7 bits where the CPU lacks VNNI ({@link #reducedRange}), as PyTorch does on x86: FBGEMM's AVX2
 * and plain AVX-512 kernels add pairs of uint8·int8 products in saturating 16-bit lanes ({@code vpmaddubsw}), which
 * overflow with 8-bit activations; VNNI's {@code vpdpbusd} accumulates in 32 bits and needs no such margin.
 */
public final class QuantizedLinear {
    /**
     * The quantized layer as numbers: int8 weight values transposed, [in, out] (the layout of ONNX's MatMul), with
     * weight = value · scale of its output column; scales float32 [out]; the float32 bias [out], or null.
     */
    public record Weights(Tensor values, Tensor scales, Tensor bias) {}

    private static volatile OperatorHandle prepack, linearDynamic, unpack;
    private final long in, out;
    private final boolean reduceRange;
    /** The plain numbers until FBGEMM packs them (then null: {@link #weights} unpacks). */
    private Weights plain;
    private volatile IValue packed;

    private QuantizedLinear(Weights plain, long in, long out, boolean reduceRange) {
        this.plain = plain;
        this.in = in;
        this.out = out;
        this.reduceRange = reduceRange;
    }

    /** Whether this CPU's activations get 7 bits instead of 8 (no {@code avx512_vnni}/{@code avx_vnni}). */
    public static boolean reducedRange() {
        return reducedRange(CpuFlags.get());
    }

    static boolean reducedRange(Set<String> flags) {
        return !(flags.contains("avx512_vnni") || flags.contains("avx_vnni"));
    }

    /** Quantizes float32 {@code weight} [out, in] and {@code bias} [out] (or null), with this CPU's activation range. */
    public static QuantizedLinear pack(Tensor weight, Tensor bias) {
        return pack(weight, bias, reducedRange());
    }

    /** As {@link #pack(Tensor, Tensor)} with the activation range chosen by the caller (tests run both). */
    public static QuantizedLinear pack(Tensor weight, Tensor bias, boolean reduceRange) {
        if (weight.dim() != 2) throw new IllegalArgumentException("int8 linear: weight must be 2-d, got " + weight.dim() + "-d");
        long out = weight.size(0), in = weight.size(1);
        try (Scope s = Scope.open()) {
            Tensor w32 = Tensors.to(weight.detach(), DType.F32).contiguous();
            Tensor scale = perChannelScales(w32);
            Weights w = new Weights(
                    Scope.escape(perChannelValues(w32, scale).t().contiguous()),
                    Scope.escape(scale.contiguous()),
                    bias == null ? null : Scope.escape(Tensors.to(bias.detach(), DType.F32).contiguous().clone()));
            return new QuantizedLinear(w, in, out, reduceRange);
        }
    }

    /** PyTorch's per-channel symmetric scales of float32 {@code w} [out, in]: max|w| of the row / 127.5, at least ε. */
    private static Tensor perChannelScales(Tensor w) {
        return Ops.div(w.abs().amax(new long[] {1}, false), 127.5).clamp_min(new org.bytedeco.pytorch.Scalar((double) Math.ulp(1.0f)));
    }

    /**
     * The int8 values {@code torch.quantize_per_channel(w, scale, 0, 0, qint8).int_repr()} gives, computed in whole
     * tensors: libtorch quantizes one element at a time through FBGEMM's scalar {@code Quantize} (~0.2 s of an int8
     * ViT-B/32 load). Its arithmetic, step by step: the float32 reciprocal of the float32 scale, one float32 product,
     * rounding half to even ({@code nearbyint}; {@code round} here), the clamp to [-128, 127]. Each step is one
     * correctly rounded float32 operation in both, so the values are the same bit for bit
     * ({@code QuantizedLinearTest.valuesAreQuantizePerChannelsBitForBit}).
     */
    static Tensor perChannelValues(Tensor w, Tensor scale) {
        Tensor inverse = torch.ones_like(scale).div(scale).unsqueeze(1);
        Tensor q = w.mul(inverse); // one float32 copy of the layer, rounded and clamped in place
        q.round_();
        q.clamp_(new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(-128.0)),
                new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(127.0)));
        return q.to(torch.ScalarType.Char);
    }

    /**
     * PyTorch's default per-channel weight quantization ({@code per_channel_symmetric}, qint8 in [-128, 127]): scale =
     * max|w| of the row / 127.5 (at least float32's epsilon), zero point 0. libtorch's own, element by element: the
     * reference {@link #perChannelValues} is held to (packing itself uses that).
     */
    static Tensor quantizePerChannel(Tensor w) {
        return quantizePerChannel(w, perChannelScales(w));
    }

    private static Tensor quantizePerChannel(Tensor w, Tensor scale) {
        Tensor zeroPoint = torch.zeros(new long[] {w.size(0)}, new TensorOptions().dtype(new ScalarTypeOptional(torch.ScalarType.Long)));
        return torch.quantize_per_channel(w, Tensors.to(scale, DType.F64), zeroPoint, 0, torch.ScalarType.QInt8);
    }

    /**
     * The layer's numbers, as handles of the caller's own (in its memory scope): over the plain copy, or over numbers
     * unpacked from FBGEMM's packing after a libtorch forward. They stay valid when the layer later packs and drops
     * its plain copy.
     */
    public synchronized Weights weights() {
        requireNotReleased();
        if (plain != null) {
            return new Weights(plain.values().detach(), plain.scales().detach(), plain.bias() == null ? null : plain.bias().detach());
        }
        IValueVector stack = new IValueVector();
        stack.push_back(packed);
        ops()[2].callBoxed(stack);
        Tensor q = new Tensor(stack.get(0).toTensor());
        Tensor bias = stack.size() > 1 && stack.get(1).isTensor() ? new Tensor(stack.get(1).toTensor()) : null;
        return new Weights(q.int_repr().t().contiguous(), Tensors.to(q.q_per_channel_scales(), DType.F32).contiguous(), bias);
    }

    /** FBGEMM's packing, made on the first libtorch forward from the plain numbers (which are then dropped). */
    private IValue packed() {
        IValue p = packed;
        if (p != null) return p;
        synchronized (this) {
            requireNotReleased();
            if (packed == null) {
                try (Scope s = Scope.open()) {
                    // the values requantize exactly: |value| ≤ 128, so value·scale/scale rounds back to value
                    Tensor w = Tensors.to(plain.values().t(), DType.F32).mul(plain.scales().unsqueeze(1)).contiguous();
                    IValueVector stack = new IValueVector();
                    stack.push_back(new IValue(quantizePerChannel(w, plain.scales())));
                    stack.push_back(plain.bias() != null ? new IValue(plain.bias()) : new IValue());
                    try {
                        ops()[0].callBoxed(stack);
                    } catch (RuntimeException e) {
                        throw new IllegalStateException("int8 inference needs FBGEMM (a CPU with AVX2): " + firstLine(e), e);
                    }
                    packed = Scope.escape(new IValue(stack.get(0))); // an owning copy: the stack's element dies with the stack (pitfall 2)
                }
                // our handles now, not whenever the GC runs (a graph written from them holds handles of its own)
                plain.values().close();
                plain.scales().close();
                if (plain.bias() != null) plain.bias().close();
                plain = null;
            }
            return packed;
        }
    }

    /**
     * Frees the layer's numbers now, plain and packed (a layer that runs elsewhere from a copy of its own: ONNX Runtime's,
     * {@link dev.clip4j.nn.Module#releaseWeights}); its forward and {@link #weights} then fail. Handles others made of
     * the plain numbers ({@link #weights}) are emptied with them.
     */
    public synchronized void release() {
        if (plain != null) {
            Tensors.freeStorage(plain.values());
            Tensors.freeStorage(plain.scales());
            if (plain.bias() != null) Tensors.freeStorage(plain.bias());
            plain = null;
        }
        if (packed != null) {
            packed.close();
            packed = null;
        }
    }

    /** Under this object's lock: a layer always holds plain or packed numbers until {@link #release} drops both. */
    private void requireNotReleased() {
        if (plain == null && packed == null) throw new IllegalStateException("this int8 layer's weights were released (its model's tower was handed over)");
    }

    /** {@code x @ W.T + b} for float32 {@code x} [..., in]: float32 [..., out]. */
    public Tensor forward(Tensor x) {
        if (x.size(-1) != in) throw new IllegalArgumentException("int8 linear: input has " + x.size(-1) + " features, the layer takes " + in);
        IValue p = packed();
        IValueVector stack = new IValueVector();
        stack.push_back(new IValue(Tensors.dtype(x) == DType.F32 ? x : Tensors.to(x, DType.F32)));
        stack.push_back(p);
        stack.push_back(new IValue(reduceRange));
        ops()[1].callBoxed(stack);
        return new Tensor(stack.get(0).toTensor()); // owned (pitfall 2)
    }

    public long inFeatures() {
        return in;
    }

    public long outFeatures() {
        return out;
    }

    public boolean reducesRange() {
        return reduceRange;
    }

    private static OperatorHandle[] ops() {
        if (unpack == null) { // set last
            synchronized (QuantizedLinear.class) {
                if (unpack == null) {
                    Torch.init();
                    Dispatcher d = Dispatcher.singleton();
                    // static handles must not belong to whatever memory scope the first caller has open
                    prepack = Scope.escape(d.findSchemaOrThrow("quantized::linear_prepack", ""));
                    linearDynamic = Scope.escape(d.findSchemaOrThrow("quantized::linear_dynamic", ""));
                    unpack = Scope.escape(d.findSchemaOrThrow("quantized::linear_unpack", ""));
                }
            }
        }
        return new OperatorHandle[] {prepack, linearDynamic, unpack};
    }

    private static String firstLine(RuntimeException e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
