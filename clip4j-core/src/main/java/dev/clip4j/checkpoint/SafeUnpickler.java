package dev.clip4j.checkpoint;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;
import org.bytedeco.pytorch.Tensor;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pickle reader that cannot run code. Python's unpickler imports and calls whatever globals a pickle names;
 * razorvine's maps some of them to Java constructors. This one admits only the globals that rebuild tensors and
 * plain containers, through every opcode that names a global ({@code GLOBAL}, {@code STACK_GLOBAL}, {@code INST};
 * {@code OBJ}, {@code REDUCE} and {@code NEWOBJ} take their class from those), and refuses any other by name. In a
 * TorchScript archive, {@code __torch__.*} classes become {@link ScriptObject}s: attribute containers whose methods
 * (the archive's {@code __setstate__} code) are never called.
 *
 * <p>Hand-written on razorvine's opcode machine because libtorch's unpickler turns {@code OrderedDict} into None and
 * {@code torch::jit::load} executes archive code (pitfall 9, docs/BINDINGS.md). Length-prefixed opcodes are checked
 * against the bytes left before anything is allocated, and every tensor view is checked against its storage.
 */
final class SafeUnpickler extends Unpickler {
    private static final short GLOBAL = 'c', STACK_GLOBAL = 0x93, INST = 'i';
    private static final Map<Short, Integer> LENGTH_PREFIXED = Map.of(
            (short) 'T', 4, (short) 'B', 4, (short) 'X', 4, (short) 0x8b, 4,
            (short) 0x8d, 8, (short) 0x8e, 8, (short) 0x96, 8);
    private static final Map<String, DType> STORAGES = Map.of(
            "FloatStorage", DType.F32, "HalfStorage", DType.F16, "BFloat16Storage", DType.BF16,
            "DoubleStorage", DType.F64, "LongStorage", DType.I64, "IntStorage", DType.I32,
            "ShortStorage", DType.I16, "CharStorage", DType.I8, "ByteStorage", DType.U8, "BoolStorage", DType.BOOL);

    /** A storage type named by the pickle (e.g. {@code torch.FloatStorage}). */
    private record StorageType(DType dtype) {}

    /** A persistent reference to {@code <archive>/<records>/<key>}. */
    private record StorageRef(String key, DType dtype, long numel) {}

    /**
     * A tensor of the archive not read yet: its storage and view, checked against the record's declared size;
     * {@link #stored} reads it when wanted.
     */
    static final class DeferredTensor {
        private final TorchArchive archive;
        private final String records;
        private final StorageRef storage;
        private final long offset;
        private final long[] size, stride;

        private DeferredTensor(TorchArchive archive, String records, StorageRef storage, long offset, long[] size, long[] stride) {
            this.archive = archive;
            this.records = records;
            this.storage = storage;
            this.offset = offset;
            this.size = size;
            this.stride = stride;
        }

        /**
         * The tensor as a {@link StoredTensor} read from the archive (which must stay open until then) into memory of its
         * own: the whole storage when the view is all of it, else a copy of the view (a storage viewed twice is read twice).
         */
        StoredTensor stored() {
            return StoredTensor.lazy(size.clone(), storage.dtype(), () -> {
                Tensor whole = archive.record(records, storage.key(), storage.dtype(), storage.numel());
                Tensor view = Tensors.asStridedView(whole, size, stride, offset);
                if (Tensors.ownsItsStorage(view)) {
                    whole.close();
                    return view;
                }
                Tensor own = view.clone();
                view.close();
                whole.close();
                return own;
            });
        }
    }

    /** An instance of a TorchScript class: its pickled state, never its code. */
    public static final class ScriptObject {
        final String className;
        Map<?, ?> attributes = Map.of();

        ScriptObject(String className) {
            this.className = className;
        }

        // Called by razorvine's BUILD opcode with the object's state; only stored.
        public void __setstate__(HashMap<?, ?> state) {
            attributes = state;
        }

        public void __setstate__(Object[] state) {
            // A custom __getstate__ tuple: no attribute names to give its tensors; not used by CLIP models.
        }
    }

    /** {@code collections.OrderedDict}; torch.save pickles its {@code _metadata} attribute as state, which we drop. */
    public static final class OrderedDict extends LinkedHashMap<Object, Object> {
        public void __setstate__(HashMap<?, ?> state) {
            // Only _metadata (per-module versions) lives here; it carries no weights.
        }
    }

    private final TorchArchive archive;
    private final String records;

    /**
     * The bytes of tensors an archive may make per byte of the storages they view: a checkpoint uses each storage once
     * (twice for tied weights), so more is a pickle repeating views of one storage to multiply memory (forged).
     */
    private static final int MAX_VIEW_BYTES_PER_STORAGE_BYTE = 4;
    private long viewBytes, storageBytes;
    /** The storages counted in {@link #storageBytes}, by their declared size, each once. */
    private final java.util.Set<String> counted = new java.util.HashSet<>();
    private ByteArrayInputStream bytes;

    /**
     * Reads pickles of {@code archive} whose persistent ids point into {@code <root>/<records>/}. Each tensor comes out
     * as a {@link DeferredTensor}: its view and record checked now (bounds, declared size, the views-per-storage limit),
     * its values read when wanted, so a model can stream in one tensor at a time (the archive stays open meanwhile).
     */
    SafeUnpickler(TorchArchive archive, String records) {
        this.archive = archive;
        this.records = records;
    }

    Object load(String pickleName) {
        byte[] data = archive.pickle(pickleName);
        bytes = new ByteArrayInputStream(data);
        try {
            return load(bytes);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // PickleException, ClassCastException, IndexOutOfBounds...: a malformed or hostile pickle.
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            throw new CheckpointException(archive.file + ": malformed pickle " + archive.root + "/" + pickleName + ": " + m, e);
        }
    }

    @Override
    protected Object dispatch(short key) throws PickleException, IOException {
        if (key == GLOBAL || key == INST) {
            String module = PickleUtils.readline(input);
            String name = PickleUtils.readline(input);
            Object resolved = resolve(module, name);
            if (key == GLOBAL) {
                stack.add(resolved);
            } else {
                // INST: module, name, then the arguments since the last MARK; only allowed constructors get here.
                List<Object> args = stack.pop_all_since_marker();
                stack.add(((IObjectConstructor) resolved).construct(args.toArray()));
            }
            return NO_RETURN_VALUE;
        }
        if (key == STACK_GLOBAL) {
            Object name = stack.pop(), module = stack.pop();
            if (!(name instanceof String n) || !(module instanceof String m)) throw new PickleException("STACK_GLOBAL needs two strings");
            stack.add(resolve(m, n));
            return NO_RETURN_VALUE;
        }
        Integer width = LENGTH_PREFIXED.get(key);
        if (width != null) checkLength(key, width);
        return super.dispatch(key);
    }

    /** A length-prefixed opcode may not claim more bytes than the pickle has left (it would allocate them first). */
    private void checkLength(short key, int width) throws IOException {
        bytes.mark(width);
        byte[] b = bytes.readNBytes(width);
        bytes.reset();
        if (b.length < width) throw new PickleException("pickle ends inside opcode " + key);
        long len = width == 4 ? ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt()
                : ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (len < 0 || len > bytes.available() - width) {
            throw new PickleException("opcode " + key + " claims " + len + " bytes but the pickle has "
                    + (bytes.available() - width) + " left");
        }
    }

    /** The allow-list: only what rebuilds tensors and plain containers. */
    private Object resolve(String module, String name) {
        String global = module + "." + name;
        switch (global) {
            case "collections.OrderedDict":
                return (IObjectConstructor) args -> new OrderedDict();
            case "torch._utils._rebuild_tensor_v2":
            case "torch._utils._rebuild_tensor":
                return (IObjectConstructor) this::rebuildTensor;
            case "torch._utils._rebuild_parameter":
                return (IObjectConstructor) args -> {
                    if (args.length < 1 || !(args[0] instanceof DeferredTensor)) throw new PickleException("_rebuild_parameter without a tensor");
                    return args[0];
                };
            default:
                if (module.equals("torch") && STORAGES.containsKey(name)) return new StorageType(STORAGES.get(name));
                if (archive.torchScript && (module.equals("__torch__") || module.startsWith("__torch__."))) {
                    return (IObjectConstructor) args -> new ScriptObject(global);
                }
                if (archive.torchScript && module.equals("torch.jit._pickle")) {
                    // Pure data helpers TorchScript pickles use for typed lists and containers.
                    switch (name) {
                        case "build_intlist", "build_tensorlist", "build_doublelist", "build_boollist":
                            return (IObjectConstructor) args -> args.length == 1 ? args[0] : List.of(args);
                        case "restore_type_tag":
                            return (IObjectConstructor) args -> args.length >= 1 ? args[0] : null;
                        default:
                            break;
                    }
                }
                throw new CheckpointException(archive.file + ": the pickle references the Python global '" + global
                        + "', which clip4j does not allow (a checkpoint must never run code)");
        }
    }

    @Override
    protected Object persistentLoad(Object pid) {
        Object[] t = pid instanceof Object[] a ? a : null;
        if (t == null || t.length < 5 || !"storage".equals(t[0]) || !(t[1] instanceof StorageType st)
                || !(t[4] instanceof Number n) || n.longValue() < 0) {
            throw new CheckpointException(archive.file + ": unsupported persistent id in pickle");
        }
        return new StorageRef(String.valueOf(t[2]), st.dtype(), n.longValue());
    }

    private Object rebuildTensor(Object[] args) {
        if (args.length < 4 || !(args[0] instanceof StorageRef ref) || !(args[1] instanceof Number off)) {
            throw new CheckpointException(archive.file + ": malformed tensor record in pickle");
        }
        long offset = off.longValue();
        long[] size = longs(args[2]), stride = longs(args[3]);
        checkView(ref, offset, size, stride);
        archive.checkRecord(records, ref.key(), ref.dtype(), ref.numel()); // the declared size is the record's
        if (counted.add(ref.key())) storageBytes += ref.numel() * ref.dtype().bytes;
        long bytes = ref.dtype().bytes; // a zero stride fits any size inside a storage: bounded here instead
        for (long d : size) bytes = Math.multiplyExact(bytes, d);
        viewBytes = Math.addExact(viewBytes, bytes);
        if (viewBytes > MAX_VIEW_BYTES_PER_STORAGE_BYTE * storageBytes) {
            throw new CheckpointException(archive.file + ": its tensors total over " + viewBytes + " bytes, more than "
                    + MAX_VIEW_BYTES_PER_STORAGE_BYTE + " times the " + storageBytes + " bytes of the storages they view"
                    + " (views repeating a storage: forged)");
        }
        return new DeferredTensor(archive, records, ref, offset, size, stride);
    }

    /** A view may only reach elements inside its storage (as_strided would read past it). */
    private void checkView(StorageRef ref, long offset, long[] size, long[] stride) {
        String where = archive.file + ": tensor view of storage '" + ref.key() + "'";
        if (size.length != stride.length || offset < 0) throw new CheckpointException(where + " is malformed");
        long last = offset;
        boolean empty = false;
        try {
            for (int i = 0; i < size.length; i++) {
                if (size[i] < 0 || stride[i] < 0) throw new CheckpointException(where + " has a negative size or stride");
                if (size[i] == 0) empty = true;
                else last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
            }
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + " overflows");
        }
        if (!empty && last >= ref.numel()) {
            throw new CheckpointException(where + " reaches element " + last + " of a storage of " + ref.numel());
        }
    }

    private long[] longs(Object o) {
        Object[] a = o instanceof Object[] arr ? arr : o instanceof List<?> l ? l.toArray() : null;
        if (a == null) throw new CheckpointException(archive.file + ": malformed tensor shape in pickle");
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            if (!(a[i] instanceof Number n)) throw new CheckpointException(archive.file + ": malformed tensor shape in pickle");
            out[i] = n.longValue();
        }
        return out;
    }
}
