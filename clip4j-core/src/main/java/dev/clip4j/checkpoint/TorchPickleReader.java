package dev.clip4j.checkpoint;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads {@code torch.save} zip archives (open_clip {@code .pt}, Hugging Face {@code pytorch_model.bin}).
 *
 * <p>Hand-written on top of razorvine's unpickler because libtorch's own unpickler turns
 * {@code collections.OrderedDict} into None (pitfall 9). A pickle may name any Python global, and Python would
 * import and call it; here only the handful of globals that rebuild tensors and containers are admitted, and any
 * other is an error naming it, so a checkpoint can never run code.
 */
public final class TorchPickleReader {
    private static final Map<String, DType> STORAGES = Map.of(
            "FloatStorage", DType.F32, "HalfStorage", DType.F16, "BFloat16Storage", DType.BF16,
            "DoubleStorage", DType.F64, "LongStorage", DType.I64, "IntStorage", DType.I32,
            "ShortStorage", DType.I16, "CharStorage", DType.I8, "ByteStorage", DType.U8, "BoolStorage", DType.BOOL);

    private TorchPickleReader() {}

    /** A storage type named by the pickle (e.g. {@code torch.FloatStorage}). */
    private record StorageType(DType dtype) {}

    /** A persistent reference to {@code <archive>/data/<key>}. */
    private record StorageRef(String key, DType dtype, long numel) {}

    /** Whether the file is a {@code torch.save} zip (has {@code data.pkl} and no TorchScript {@code code/}). */
    public static boolean isTorchSaveZip(Path file) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            boolean pkl = false, code = false;
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                String n = e.nextElement().getName();
                if (n.endsWith("/data.pkl") && n.indexOf('/') == n.lastIndexOf('/')) pkl = true;
                if (n.contains("/code/") || n.endsWith("/constants.pkl")) code = true;
            }
            return pkl && !code;
        } catch (IOException e) {
            return false;
        }
    }

    /** The unpickled top-level object, with tensors in place of {@code _rebuild_tensor_v2} calls. */
    public static Object read(Path file) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            String root = null;
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                String n = e.nextElement().getName();
                if (n.endsWith("/data.pkl") && n.indexOf('/') == n.lastIndexOf('/')) root = n.substring(0, n.indexOf('/'));
            }
            if (root == null) throw new CheckpointException(file + ": not a torch.save archive (no data.pkl)");
            ZipEntry byteorder = zip.getEntry(root + "/byteorder");
            if (byteorder != null) {
                String order = new String(zip.getInputStream(byteorder).readAllBytes()).trim();
                if (!order.equals("little")) throw new CheckpointException(file + ": big-endian archives are not supported");
            }
            SafeUnpickler u = new SafeUnpickler(file, zip, root);
            try (InputStream in = zip.getInputStream(zip.getEntry(root + "/data.pkl"))) {
                return u.load(in);
            }
        } catch (java.util.zip.ZipException e) {
            throw new CheckpointException(file + ": not a readable zip archive (" + e.getMessage()
                    + "); legacy pre-1.6 torch.save files must be re-saved with a newer PyTorch");
        } catch (IOException | PickleException e) {
            throw new CheckpointException(file + ": cannot unpickle: " + e.getMessage(), e);
        }
    }

    /** Finds the tensor map inside a loaded checkpoint: the top-level dict, or its {@code state_dict}/{@code model}. */
    @SuppressWarnings("unchecked")
    public static Map<String, Tensor> stateDict(Path file) {
        Object top = read(file);
        for (int depth = 0; depth < 2 && top instanceof Map<?, ?> m; depth++) {
            Object inner = m.get("state_dict");
            if (inner == null) inner = m.get("model");
            if (inner instanceof Map<?, ?>) top = inner;
            else break;
        }
        if (!(top instanceof Map<?, ?> map)) throw new CheckpointException(file + ": the pickle holds no state dict");
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (e.getKey() instanceof String k && e.getValue() instanceof Tensor t) {
                out.put(k.startsWith("module.") ? k.substring(7) : k, t);
            }
        }
        if (out.isEmpty()) throw new CheckpointException(file + ": the pickle holds no tensors");
        return out;
    }

    /** {@code collections.OrderedDict}; torch.save pickles its {@code _metadata} attribute as state, which we drop. */
    public static final class OrderedDict extends LinkedHashMap<Object, Object> {
        public void __setstate__(HashMap<?, ?> state) {
            // Only _metadata (per-module versions) lives here; it carries no weights.
        }
    }

    private static final class SafeUnpickler extends Unpickler {
        private static final short GLOBAL = 'c';
        private static final short STACK_GLOBAL = 0x93;
        private final Path file;
        private final ZipFile zip;
        private final String root;
        private final Map<String, Tensor> storages = new HashMap<>();

        SafeUnpickler(Path file, ZipFile zip, String root) {
            this.file = file;
            this.zip = zip;
            this.root = root;
        }

        @Override
        protected Object dispatch(short key) throws PickleException, IOException {
            if (key == GLOBAL) {
                String module = PickleUtils.readline(input);
                String name = PickleUtils.readline(input);
                stack.add(resolve(module, name));
                return NO_RETURN_VALUE;
            }
            if (key == STACK_GLOBAL) {
                String name = (String) stack.pop();
                String module = (String) stack.pop();
                stack.add(resolve(module, name));
                return NO_RETURN_VALUE;
            }
            return super.dispatch(key);
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
                    return (IObjectConstructor) args -> args[0];
                default:
                    if (module.equals("torch") && STORAGES.containsKey(name)) return new StorageType(STORAGES.get(name));
                    throw new CheckpointException(file + ": the pickle references the Python global '" + global
                            + "', which clip4j does not allow (a checkpoint must never run code)");
            }
        }

        @Override
        protected Object persistentLoad(Object pid) {
            Object[] t = pid instanceof Object[] a ? a : null;
            if (t == null || t.length < 5 || !"storage".equals(t[0]) || !(t[1] instanceof StorageType st)) {
                throw new CheckpointException(file + ": unsupported persistent id in pickle");
            }
            return new StorageRef(String.valueOf(t[2]), st.dtype(), ((Number) t[4]).longValue());
        }

        private Object rebuildTensor(Object[] args) {
            if (args.length < 4 || !(args[0] instanceof StorageRef ref)) {
                throw new CheckpointException(file + ": malformed tensor record in pickle");
            }
            long offset = ((Number) args[1]).longValue();
            long[] size = longs(args[2]);
            long[] stride = longs(args[3]);
            Tensor storage = storages.computeIfAbsent(ref.key(), k -> loadStorage(ref));
            return torch.as_strided(storage, size, stride, new org.bytedeco.pytorch.LongOptional(offset)).clone();
        }

        private Tensor loadStorage(StorageRef ref) {
            String entry = root + "/data/" + ref.key();
            ZipEntry z = zip.getEntry(entry);
            if (z == null) throw new CheckpointException(file + ": storage '" + entry + "' is missing from the archive");
            long bytes = ref.numel() * ref.dtype().bytes;
            if (bytes > Integer.MAX_VALUE) throw new CheckpointException(file + ": storage '" + entry + "' is over 2 GB");
            ByteBuffer buf = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
            try (InputStream in = zip.getInputStream(z)) {
                byte[] chunk = new byte[1 << 20];
                int n;
                while (buf.hasRemaining() && (n = in.read(chunk, 0, Math.min(chunk.length, buf.remaining()))) > 0) buf.put(chunk, 0, n);
            } catch (IOException e) {
                throw new CheckpointException(file + ": cannot read storage '" + entry + "': " + e.getMessage());
            }
            if (buf.hasRemaining()) {
                throw new CheckpointException(file + ": storage '" + entry + "' is truncated (" + buf.position() + " of "
                        + bytes + " bytes)");
            }
            buf.flip();
            return Tensors.fromBytes(buf, ref.dtype(), ref.numel());
        }

        private static long[] longs(Object o) {
            Object[] a = o instanceof Object[] arr ? arr : ((List<?>) o).toArray();
            long[] out = new long[a.length];
            for (int i = 0; i < a.length; i++) out[i] = ((Number) a[i]).longValue();
            return out;
        }
    }
}
