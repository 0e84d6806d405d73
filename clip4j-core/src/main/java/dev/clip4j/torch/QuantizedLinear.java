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
 * int32 by FBGEMM and returned in float32 with the bias added. Reached through the dispatcher's boxed calls to
 * {@code quantized::linear_prepack} / {@code quantized::linear_dynamic} (the presets map no typed entry points for
 * them; the typed legacy {@code fbgemm_linear_*} ones are deprecated, per-tensor only, and print warnings).
 *
 * <p>Activations use 7 bits where the CPU lacks VNNI ({@link #reducedRange}), as PyTorch does on x86: FBGEMM's AVX2
 * and plain AVX-512 kernels add pairs of uint8·int8 products in saturating 16-bit lanes ({@code vpmaddubsw}), which
 * overflow with 8-bit activations; VNNI's {@code vpdpbusd} accumulates in 32 bits and needs no such margin.
 */
public final class QuantizedLinear {
    private static volatile OperatorHandle prepack, linearDynamic;
    private final IValue packed;
    private final long in, out;
    private final boolean reduceRange;

    private QuantizedLinear(IValue packed, long in, long out, boolean reduceRange) {
        this.packed = packed;
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

    /** Packs float32 {@code weight} [out, in] and {@code bias} [out] (or null), with this CPU's activation range. */
    public static QuantizedLinear pack(Tensor weight, Tensor bias) {
        return pack(weight, bias, reducedRange());
    }

    /** As {@link #pack(Tensor, Tensor)} with the activation range chosen by the caller (tests run both). */
    public static QuantizedLinear pack(Tensor weight, Tensor bias, boolean reduceRange) {
        if (weight.dim() != 2) throw new IllegalArgumentException("int8 linear: weight must be 2-d, got " + weight.dim() + "-d");
        long out = weight.size(0), in = weight.size(1);
        try (Scope s = Scope.open()) {
            Tensor w = Tensors.to(weight.detach(), DType.F32).contiguous();
            IValueVector stack = new IValueVector();
            stack.push_back(new IValue(quantizePerChannel(w)));
            if (bias != null) stack.push_back(new IValue(Tensors.to(bias.detach(), DType.F32).contiguous()));
            else stack.push_back(new IValue());
            try {
                ops()[0].callBoxed(stack);
            } catch (RuntimeException e) {
                throw new IllegalStateException("int8 inference needs FBGEMM (a CPU with AVX2): " + firstLine(e), e);
            }
            IValue packed = new IValue(stack.get(0)); // an owning copy: the stack's element dies with the stack (pitfall 2)
            return new QuantizedLinear(Scope.escape(packed), in, out, reduceRange);
        }
    }

    /**
     * PyTorch's default per-channel weight quantization ({@code per_channel_symmetric}, qint8 in [-128, 127]): scale =
     * max|w| of the row / 127.5 (at least float32's epsilon), zero point 0.
     */
    static Tensor quantizePerChannel(Tensor w) {
        long out = w.size(0);
        Tensor scale = Ops.div(w.abs().amax(new long[] {1}, false), 127.5).clamp_min(new org.bytedeco.pytorch.Scalar((double) Math.ulp(1.0f)));
        Tensor zeroPoint = torch.zeros(new long[] {out}, new TensorOptions().dtype(new ScalarTypeOptional(torch.ScalarType.Long)));
        return torch.quantize_per_channel(w, Tensors.to(scale, DType.F64), zeroPoint, 0, torch.ScalarType.QInt8);
    }

    /** {@code x @ W.T + b} for float32 {@code x} [..., in]: float32 [..., out]. */
    public Tensor forward(Tensor x) {
        if (x.size(-1) != in) throw new IllegalArgumentException("int8 linear: input has " + x.size(-1) + " features, the layer takes " + in);
        IValueVector stack = new IValueVector();
        stack.push_back(new IValue(Tensors.dtype(x) == DType.F32 ? x : Tensors.to(x, DType.F32)));
        stack.push_back(packed);
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
        if (linearDynamic == null) {
            synchronized (QuantizedLinear.class) {
                if (linearDynamic == null) {
                    Torch.init();
                    Dispatcher d = Dispatcher.singleton();
                    // static handles must not belong to whatever memory scope the first caller has open
                    prepack = Scope.escape(d.findSchemaOrThrow("quantized::linear_prepack", ""));
                    linearDynamic = Scope.escape(d.findSchemaOrThrow("quantized::linear_dynamic", ""));
                }
            }
        }
        return new OperatorHandle[] {prepack, linearDynamic};
    }

    private static String firstLine(RuntimeException e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
