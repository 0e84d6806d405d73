package dev.clip4j.checkpoint;

import dev.clip4j.io.InputLimits;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * The zip container PyTorch writes for {@code torch.save} and {@code torch.jit.save}: {@code <root>/data.pkl}, tensor
 * records under {@code <root>/data/<key>}, and (TorchScript only) {@code code/} and {@code constants.pkl}.
 *
 * <p>Every size is checked before memory is taken: a record must hold exactly the bytes its storage declares and
 * lie inside the file, a pickle is at most {@link InputLimits#MAX_PICKLE_BYTES}, and compressed entries inflate to at
 * most {@link InputLimits#MAX_INFLATED_BYTES} per archive (PyTorch stores records uncompressed, so a legitimate
 * checkpoint never comes near it; a zip bomb does).
 */
final class TorchArchive implements Closeable {
    final Path file;
    private final ZipFile zip;
    private final long fileSize;
    final String root;
    final boolean torchScript;
    private long inflated;
    /** The compressed records already counted against the inflation limit by {@link #checkRecord}: each once. */
    private final java.util.Set<String> checked = new java.util.HashSet<>();

    private TorchArchive(Path file, ZipFile zip, long fileSize, String root, boolean torchScript) {
        this.file = file;
        this.zip = zip;
        this.fileSize = fileSize;
        this.root = root;
        this.torchScript = torchScript;
    }

    static TorchArchive open(Path file) {
        ZipFile zip;
        long size;
        try {
            size = Files.size(file);
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new CheckpointException(file + ": not a readable zip archive (" + e.getMessage()
                    + "); legacy pre-1.6 torch.save files must be re-saved with a newer PyTorch");
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
        }
        String root = null;
        boolean script = false;
        for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
            String n = e.nextElement().getName();
            int slash = n.indexOf('/');
            if (n.endsWith("/data.pkl") && slash == n.lastIndexOf('/')) root = n.substring(0, slash);
            if (n.contains("/code/") || n.endsWith("/constants.pkl")) script = true;
        }
        if (root == null) {
            closeQuietly(zip);
            throw new CheckpointException(file + ": not a PyTorch archive (no data.pkl)");
        }
        TorchArchive a = new TorchArchive(file, zip, size, root, script);
        ZipEntry byteorder = zip.getEntry(root + "/byteorder");
        if (byteorder != null && !new String(a.read(byteorder, 16), java.nio.charset.StandardCharsets.US_ASCII).trim().equals("little")) {
            a.close();
            throw new CheckpointException(file + ": big-endian archives are not supported");
        }
        return a;
    }

    /** Whether the file is a zip holding a top-level {@code data.pkl}; and whether it is TorchScript. */
    static Boolean kind(Path file) {
        try (TorchArchive a = open(file)) {
            return a.torchScript;
        } catch (CheckpointException e) {
            return null;
        }
    }

    /** {@code <root>/<name>} (a pickle), at most {@link InputLimits#MAX_PICKLE_BYTES}. */
    byte[] pickle(String name) {
        ZipEntry z = zip.getEntry(root + "/" + name);
        if (z == null) throw new CheckpointException(file + ": archive has no " + root + "/" + name);
        long max = InputLimits.MAX_PICKLE_BYTES.get();
        if (z.getSize() > max) {
            throw new CheckpointException(file + ": " + z.getName() + " is " + z.getSize() + " bytes ("
                    + InputLimits.MAX_PICKLE_BYTES.hint() + ")");
        }
        return read(z, max);
    }

    /**
     * The record {@code <root>/<dir>/<key>} holding exactly {@code numel} elements of {@code dtype}, read straight into a
     * new tensor's memory (no intermediate buffer, whose memory would wait for the garbage collector).
     */
    Tensor record(String dir, String key, DType dtype, long numel) {
        ZipEntry z = checkRecord(dir, key, dtype, numel);
        return read(z, root + "/" + dir + "/" + key, dtype, numel);
    }

    /**
     * Checks the record {@code <root>/<dir>/<key>} against its declared size without reading it (present, exactly
     * {@code numel} elements of {@code dtype}, inside the file; a compressed one counted against the archive's inflation
     * limit); returns its entry.
     */
    ZipEntry checkRecord(String dir, String key, DType dtype, long numel) {
        String name = root + "/" + dir + "/" + key;
        long bytes;
        try {
            bytes = Math.multiplyExact(numel, (long) dtype.bytes);
        } catch (ArithmeticException e) {
            throw new CheckpointException(file + ": storage '" + name + "' has an impossible size");
        }
        ZipEntry z = zip.getEntry(name);
        if (z == null) throw new CheckpointException(file + ": storage '" + name + "' is missing from the archive");
        if (z.getSize() >= 0 && z.getSize() != bytes) {
            throw new CheckpointException(file + ": storage '" + name + "' declares " + bytes + " bytes but the record holds "
                    + z.getSize());
        }
        if (bytes > Integer.MAX_VALUE - 8) throw new CheckpointException(file + ": storage '" + name + "' is over 2 GB");
        if (z.getMethod() == ZipEntry.STORED ? bytes > fileSize : false) {
            throw new CheckpointException(file + ": storage '" + name + "' declares " + bytes + " bytes, more than the file holds ("
                    + fileSize + "): truncated or forged");
        }
        if (z.getMethod() != ZipEntry.STORED && checked.add(name)) reserveInflated(name, bytes);
        return z;
    }

    /** The record's values read straight into a new tensor ({@link #checkRecord} first). */
    private Tensor read(ZipEntry z, String name, DType dtype, long numel) {
        long bytes = numel * dtype.bytes;
        Tensor t = Tensors.empty(dtype, numel);
        ByteBuffer buf = bytes == 0 ? ByteBuffer.allocate(0) : Tensors.byteBuffer(t);
        try (InputStream in = zip.getInputStream(z)) {
            byte[] chunk = new byte[1 << 20];
            int n;
            while (buf.hasRemaining() && (n = in.read(chunk, 0, Math.min(chunk.length, buf.remaining()))) > 0) buf.put(chunk, 0, n);
        } catch (IOException e) {
            t.close();
            throw new CheckpointException(file + ": cannot read storage '" + name + "': " + e.getMessage());
        }
        if (buf.hasRemaining()) {
            t.close();
            throw new CheckpointException(file + ": storage '" + name + "' is truncated (" + buf.position() + " of " + bytes + " bytes)");
        }
        return t;
    }

    private void reserveInflated(String name, long bytes) {
        inflated += bytes;
        if (inflated > InputLimits.MAX_INFLATED_BYTES.get()) {
            throw new CheckpointException(file + ": compressed entries inflate past " + InputLimits.MAX_INFLATED_BYTES.get()
                    + " bytes at '" + name + "' (" + InputLimits.MAX_INFLATED_BYTES.hint() + ")");
        }
    }

    /** An entry's bytes, refusing more than {@code max} whatever its header claims. */
    private byte[] read(ZipEntry z, long max) {
        try (InputStream in = zip.getInputStream(z)) {
            byte[] data = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
            if (data.length > max) {
                throw new CheckpointException(file + ": " + z.getName() + " inflates past " + max + " bytes (zip bomb?)");
            }
            if (z.getMethod() != ZipEntry.STORED) reserveInflated(z.getName(), data.length);
            return data;
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read " + z.getName() + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        closeQuietly(zip);
    }

    private static void closeQuietly(ZipFile z) {
        try {
            z.close();
        } catch (IOException ignored) {
            // read-only
        }
    }
}
