package dev.clip4j.torch;

import org.bytedeco.pytorch.Dispatcher;
import org.bytedeco.pytorch.GenericList;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.NumberType;
import org.bytedeco.pytorch.OperatorHandle;
import org.bytedeco.pytorch.OptionalType;
import org.bytedeco.pytorch.SingletonTypePtr;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.Type;

import java.util.Set;

/**
 * A bf16 linear layer for inference through oneDNN's fused kernel, {@code mkldnn::_linear_pointwise} (what PyTorch's
 * compiler emits for CPU inference): the weight reordered once into oneDNN's blocked layout
 * ({@code mkldnn::_reorder_linear_weight}), the bias and an optional silu applied to the float32 accumulator before
 * it is rounded to bf16. Against {@code linear} (+ {@code silu}) on plain weights, which reorders the weight on every
 * call, copies the broadcast bias into the output first and runs silu as a pass of its own, a ViT-B/32 block's MLP
 * measured 3.0 vs 3.8 ms at batch 16 on an AMX Xeon (bench/RESULTS.md). The weight copy is made by {@link #pack}
 * and lives beside the layer's own bf16 weights; layers hold it in a {@link Cache} keyed on those weights' version,
 * so training or loading new weights never runs stale numbers.
 */
public final class OneDnnLinear {
    private static volatile OperatorHandle pointwise, reorder;
    private static volatile Boolean supported;

    private final Tensor packed, bias;
    private final long in;

    private OneDnnLinear(Tensor packed, Tensor bias, long in) {
        this.packed = packed;
        this.bias = bias;
        this.in = in;
    }

    /**
     * Whether {@code x} takes this path: a non-empty bf16 input with gradients off and no autocast, on a CPU with native bf16
     * (AVX-512 BF16 or AMX: oneDNN refuses or emulates bf16 elsewhere), unless {@code -Dclip4j.onednnLinear=false}.
     */
    public static boolean applies(Tensor x) {
        return Tensors.dtype(x) == DType.BF16 && x.numel() > 0 && !GradMode.is_enabled() && !Autocast.active() && supported();
    }

    private static boolean supported() {
        Boolean s = supported;
        if (s == null) {
            synchronized (OneDnnLinear.class) {
                s = supported;
                if (s == null) {
                    Set<String> flags = CpuFlags.get();
                    s = Boolean.parseBoolean(System.getProperty("clip4j.onednnLinear", "true"))
                            && (flags.contains("avx512_bf16") || flags.contains("amx_bf16")) && runsHere();
                    supported = s;
                }
            }
        }
        return s;
    }

    /** One tiny layer packed and run: a libtorch built without these ops, or a oneDNN that refuses, means the plain path. */
    private static boolean runsHere() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensors.to(Tensors.full(0.5, DType.F32, 8, 16), DType.BF16), x = Tensors.to(Tensors.full(1.0, DType.F32, 2, 16), DType.BF16);
            float[] y = Tensors.toFloats(Tensors.to(pack(w, null, 1, 1).forward(x), DType.F32));
            return y.length == 16 && y[0] == 8.0f && y[15] == 8.0f;
        } catch (RuntimeException e) {
            System.err.println("clip4j: bf16 linear layers stay on libtorch's plain kernel (oneDNN's fused one failed: "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + ")");
            return false;
        }
    }

    /**
     * Packs {@code weight} [out, in] times {@code weightScale} and {@code bias} [out] times {@code biasScale} (constants
     * the caller folds in; 1 for none) as bf16, independent of every open scope.
     */
    public static OneDnnLinear pack(Tensor weight, Tensor bias, double weightScale, double biasScale) {
        try (Scope s = Scope.open()) {
            Tensor w = Tensors.to(weightScale == 1.0 ? weight : Ops.mul(weight, weightScale), DType.BF16).contiguous();
            IValueVector stack = new IValueVector();
            stack.push_back(new IValue(w));
            stack.push_back(new IValue());
            ops()[1].callBoxed(stack);
            Tensor packed = Scope.escape(new Tensor(stack.get(0).toTensor())); // owned (pitfall 2)
            Tensor b = bias == null ? null
                    : Scope.escape(Tensors.to(biasScale == 1.0 ? bias : Ops.mul(bias, biasScale), DType.BF16).contiguous());
            return new OneDnnLinear(packed, b, weight.size(1));
        }
    }

    /** {@code x @ W.T + b} for bf16 {@code x} [..., in]: bf16 [..., out]. */
    public Tensor forward(Tensor x) {
        return call(x, "none");
    }

    /** {@code silu(x @ W.T + b)}, the silu on the float32 accumulator. */
    public Tensor forwardSilu(Tensor x) {
        return call(x, "swish");
    }

    private Tensor call(Tensor x, String attr) {
        if (x.size(-1) != in) throw new IllegalArgumentException("linear: input has " + x.size(-1) + " features, the layer takes " + in);
        IValueVector stack = new IValueVector();
        stack.push_back(new IValue(x.contiguous()));
        stack.push_back(new IValue(packed));
        stack.push_back(bias == null ? new IValue() : new IValue(bias));
        stack.push_back(new IValue(attr));
        stack.push_back(new IValue(new GenericList(OPTIONAL_SCALAR))); // no scalars: swish's alpha is 1
        stack.push_back(new IValue());
        ops()[0].callBoxed(stack);
        return new Tensor(stack.get(0).toTensor());
    }

    /**
     * The element type of the op's {@code Scalar?[]} argument (an empty list must carry it to be unboxed), made once:
     * independent of every scope, as the class is first used inside some caller's.
     */
    private static final Type.TypePtr OPTIONAL_SCALAR = Scope.escape(
            OptionalType.get(new Type.TypePtr(new SingletonTypePtr(NumberType.getNumberIntTypePtr().get()))));

    private static OperatorHandle[] ops() {
        if (reorder == null) { // set last
            synchronized (OneDnnLinear.class) {
                if (reorder == null) {
                    Torch.init();
                    Dispatcher d = Dispatcher.singleton();
                    pointwise = Scope.escape(d.findSchemaOrThrow("mkldnn::_linear_pointwise", ""));
                    reorder = Scope.escape(d.findSchemaOrThrow("mkldnn::_reorder_linear_weight", ""));
                }
            }
        }
        return new OperatorHandle[] {pointwise, reorder};
    }

    /**
     * A layer's packed copy, remade when the weights it came from change: keyed on their storage and libtorch's
     * version counter (bumped by every in-place write: an optimizer step, a load). Safe to share between threads.
     */
    public static final class Cache {
        private volatile Entry entry;

        private record Entry(long weight, long weightVersion, long bias, long biasVersion, OneDnnLinear layer) {
            boolean of(Tensor w, Tensor b) {
                return weight == w.data_ptr().address() && weightVersion == w._version()
                        && bias == (b == null ? 0 : b.data_ptr().address()) && biasVersion == (b == null ? 0 : b._version());
            }
        }

        /** The packed layer for {@code weight} (with {@code bias}, both scaled as {@link #pack} scales them). */
        public OneDnnLinear get(Tensor weight, Tensor bias, double weightScale, double biasScale) {
            Entry e = entry;
            if (e == null || !e.of(weight, bias)) {
                synchronized (this) {
                    e = entry;
                    if (e == null || !e.of(weight, bias)) {
                        e = new Entry(weight.data_ptr().address(), weight._version(), bias == null ? 0 : bias.data_ptr().address(),
                                bias == null ? 0 : bias._version(), pack(weight, bias, weightScale, biasScale));
                        entry = e;
                    }
                }
            }
            return e.layer;
        }
    }
}
