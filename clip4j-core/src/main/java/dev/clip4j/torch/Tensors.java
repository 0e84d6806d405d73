package dev.clip4j.torch;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.nio.ByteBuffer;

/** Creating tensors from Java data, reading them back, and the small conversions the bindings make awkward. */
public final class Tensors {
    private Tensors() {}

    private static TensorOptions options(DType dtype) {
        return new TensorOptions(dtype.scalarType);
    }

    public static Tensor empty(DType dtype, long... shape) {
        Torch.init();
        return torch.empty(shape, options(dtype), null);
    }

    public static Tensor zeros(DType dtype, long... shape) {
        return empty(dtype, shape).zero_();
    }

    public static Tensor full(double value, DType dtype, long... shape) {
        return empty(dtype, shape).fill_(new Scalar(value));
    }

    /** N(0, 1) samples from libtorch's generator (seeded by {@link Torch#manualSeed}). */
    public static Tensor randn(long... shape) {
        Torch.init();
        return torch.randn(shape, options(DType.F32));
    }

    public static Tensor arange(long n) {
        Torch.init();
        return torch.arange(new Scalar(n), options(DType.I64));
    }

    public static Tensor scalar(double value) {
        return full(value, DType.F32);
    }

    public static Tensor fromFloats(float[] data, long... shape) {
        checkCount(data.length, shape);
        Tensor t = empty(DType.F32, shape);
        new FloatPointer(t.data_ptr()).put(data);
        return t;
    }

    public static Tensor fromDoubles(double[] data, long... shape) {
        checkCount(data.length, shape);
        Tensor t = empty(DType.F64, shape);
        new org.bytedeco.javacpp.DoublePointer(t.data_ptr()).put(data);
        return t;
    }

    public static Tensor fromLongs(long[] data, long... shape) {
        checkCount(data.length, shape);
        Tensor t = empty(DType.I64, shape);
        new LongPointer(t.data_ptr()).put(data);
        return t;
    }

    /** Equal-length rows as a [rows, cols] float tensor. */
    public static Tensor fromRows(float[][] rows) {
        int cols = rows.length == 0 ? 0 : rows[0].length;
        float[] flat = new float[rows.length * cols];
        for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, flat, i * cols, cols);
        return fromFloats(flat, rows.length, cols);
    }

    /** Equal-length rows (e.g. token ids) as a [rows, cols] int64 tensor. */
    public static Tensor fromRows(long[][] rows) {
        int cols = rows.length == 0 ? 0 : rows[0].length;
        long[] flat = new long[rows.length * cols];
        for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, flat, i * cols, cols);
        return fromLongs(flat, rows.length, cols);
    }

    /** A bool tensor of the given shape from row-major values. */
    public static Tensor fromBooleans(boolean[] values, long... shape) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (values[i] ? 1 : 0);
        return to(fromBytes(ByteBuffer.wrap(b), DType.U8, shape), DType.BOOL);
    }

    /** A bool (or 0/1) tensor's values, row-major. */
    public static boolean[] toBooleans(Tensor t) {
        long[] v = toLongs(to(t, DType.I64).contiguous());
        boolean[] out = new boolean[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i] != 0;
        return out;
    }

    /**
     * Reads a new tensor's raw little-endian bytes straight from {@code file} at {@code position} (no mapped pages,
     * no heap copy): the caller has checked that the file holds them.
     */
    public static Tensor read(java.nio.channels.FileChannel file, long position, DType dtype, long... shape) throws java.io.IOException {
        Tensor t = empty(dtype, shape);
        long len = t.nbytes();
        if (len == 0) return t;
        ByteBuffer dst = new BytePointer(t.data_ptr()).capacity(len).asByteBuffer();
        while (dst.hasRemaining()) {
            if (file.read(dst, position + dst.position()) < 0) throw new java.io.EOFException("truncated at byte " + (position + dst.position()));
        }
        return t;
    }

    /** Whether {@code t} is contiguous and spans its whole storage (no other view can share that storage's bytes). */
    public static boolean ownsItsStorage(Tensor t) {
        return t.is_contiguous() && t.storage_offset() == 0 && t.storage().nbytes() == t.nbytes();
    }

    /**
     * Empties {@code t} (0 elements) and frees the memory of the storage it had at once, even where other tensors
     * share that storage (they are left with no data: only for storages nothing reads again). Closing a tensor does
     * not free a storage that another, garbage-collected-later tensor still references.
     */
    public static void freeStorage(Tensor t) {
        // reset while t still holds the storage: storage() returns a reference to t's own field (pitfall 2), which
        // set_ points elsewhere, and the storage itself may die with set_ when t was its only holder
        t.storage().unsafeGetStorageImpl().reset();
        t.set_(Scope.escape(empty(DType.F32, 0)));
    }

    /** Copies little-endian raw bytes (e.g. a safetensors slice) into a new tensor. */
    public static Tensor fromBytes(ByteBuffer raw, DType dtype, long... shape) {
        long count = count(shape);
        if ((long) raw.remaining() != count * dtype.bytes) {
            throw new IllegalArgumentException("expected " + count * dtype.bytes + " bytes, got " + raw.remaining());
        }
        Tensor t = empty(dtype, shape);
        if (count == 0) return t;
        if (raw.isDirect()) {
            Pointer.memcpy(t.data_ptr(), new BytePointer(raw.slice()), raw.remaining());
        } else {
            byte[] copy = new byte[raw.remaining()];
            raw.duplicate().get(copy);
            new BytePointer(t.data_ptr()).put(copy);
        }
        return t;
    }

    /** Whether every element is finite (no NaN, no ±Inf); integer tensors always are. */
    public static boolean allFinite(Tensor t) {
        if (!dtype(t).isFloatingPoint() || t.numel() == 0) return true;
        try (Scope scope = Scope.open()) {
            // one reduction pass without temporaries: the minimum and maximum propagate a NaN, and are infinite only
            // where some element is (isfinite made a bool copy and an abs copy of the whole tensor: 125 MB more at
            // a ViT-B/32 token embedding's load, and ~5 % of a model load's time)
            org.bytedeco.pytorch.T_TensorTensor_T range = torch.aminmax(t);
            double min = range.get0().item_double(), max = range.get1().item_double();
            return Double.isFinite(min) && Double.isFinite(max);
        }
    }

    /** The strided view of {@code storage}, sharing its memory (the caller checks the view lies inside it). */
    public static Tensor asStridedView(Tensor storage, long[] size, long[] stride, long offset) {
        return torch.as_strided(storage, size, stride, new org.bytedeco.pytorch.LongOptional(offset));
    }

    /** The tensor's bytes (contiguous, little-endian), e.g. for writing safetensors. */
    public static byte[] toBytes(Tensor t) {
        Tensor c = t.contiguous();
        long n = c.numel() * dtype(c).bytes;
        if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("tensor too large for one array: " + n + " bytes");
        byte[] out = new byte[(int) n];
        if (n > 0) new BytePointer(c.data_ptr()).capacity(n).get(out);
        return out;
    }

    /**
     * A direct buffer over a contiguous float32 tensor's memory, for native readers (ONNX Runtime) that take
     * the data in place; valid only while the tensor lives, so the caller keeps a reference to it.
     */
    public static java.nio.FloatBuffer floatBuffer(Tensor t) {
        if (dtype(t) != DType.F32 || !t.is_contiguous()) {
            throw new IllegalArgumentException("floatBuffer needs a contiguous float32 tensor, got " + dtype(t));
        }
        return new FloatPointer(t.data_ptr()).capacity(t.numel()).asBuffer();
    }

    /**
     * A direct little-endian buffer over a contiguous tensor's bytes, for native readers (ONNX Runtime's int8
     * initializers) that take the data in place; valid only while the tensor lives, so the caller keeps a reference.
     */
    public static ByteBuffer byteBuffer(Tensor t) {
        if (!t.is_contiguous()) throw new IllegalArgumentException("byteBuffer needs a contiguous tensor");
        return new BytePointer(t.data_ptr()).capacity(t.numel() * dtype(t).bytes).asBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * A contiguous tensor's bytes where they lie, as consecutive direct buffers of at most 256 MB each (one buffer
     * cannot pass 2 GB): for readers such as a digest that need no copy on the Java heap. Valid during the call.
     */
    public static void forEachBytes(Tensor t, java.util.function.Consumer<ByteBuffer> sink) {
        if (!t.is_contiguous()) throw new IllegalArgumentException("forEachBytes needs a contiguous tensor");
        long n = t.numel() * dtype(t).bytes, chunk = 1L << 28;
        for (long at = 0; at < n; at += chunk) sink.accept(new BytePointer(t.data_ptr()).position(at).limit(Math.min(n, at + chunk)).asBuffer());
    }

    public static float[] toFloats(Tensor t) {
        Tensor c = t.detach().to(DType.F32.scalarType).contiguous();
        float[] out = new float[Math.toIntExact(c.numel())];
        if (out.length > 0) new FloatPointer(c.data_ptr()).capacity(out.length).get(out);
        return out;
    }

    public static double[] toDoubles(Tensor t) {
        Tensor c = t.detach().to(DType.F64.scalarType).contiguous();
        double[] out = new double[Math.toIntExact(c.numel())];
        if (out.length > 0) new org.bytedeco.javacpp.DoublePointer(c.data_ptr()).capacity(out.length).get(out);
        return out;
    }

    public static long[] toLongs(Tensor t) {
        Tensor c = t.detach().to(DType.I64.scalarType).contiguous();
        long[] out = new long[Math.toIntExact(c.numel())];
        if (out.length > 0) new LongPointer(c.data_ptr()).capacity(out.length).get(out);
        return out;
    }

    /** A [rows, cols] float tensor as a Java matrix. */
    public static float[][] toMatrix(Tensor t) {
        long[] s = shape(t);
        if (s.length != 2) throw new IllegalArgumentException("expected a 2-D tensor, got " + java.util.Arrays.toString(s));
        float[] flat = toFloats(t);
        float[][] m = new float[(int) s[0]][(int) s[1]];
        for (int r = 0; r < s[0]; r++) System.arraycopy(flat, (int) (r * s[1]), m[r], 0, (int) s[1]);
        return m;
    }

    public static float item(Tensor t) {
        return t.detach().to(DType.F32.scalarType).item_float();
    }

    public static long[] shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) s[i] = t.size(i);
        return s;
    }

    public static DType dtype(Tensor t) {
        return DType.of(t.scalar_type());
    }

    public static Tensor to(Tensor t, DType dtype) {
        return t.to(dtype.scalarType);
    }

    public static Tensor cat(long dim, Tensor... parts) {
        Torch.init();
        return torch.cat(new TensorVector(parts), dim);
    }

    public static long count(long... shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape");
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static void checkCount(int length, long[] shape) {
        if (count(shape) != length) {
            throw new IllegalArgumentException("shape " + java.util.Arrays.toString(shape) + " needs " + count(shape)
                    + " values, got " + length);
        }
    }
}
