package dev.clip4j.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.clip4j.io.AtomicFiles;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header, then raw tensor bytes.
 * Reading maps each tensor's bytes separately, so files over 2 GB load (a single Java mapping cannot exceed
 * 2 GB). Every offset is checked against the file before any byte is read.
 */
public final class Safetensors {
    // A header naming a tensor twice is refused by the parser (the format forbids it; the last one would win).
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final long MAX_HEADER = 100L << 20;

    private Safetensors() {}

    /** One entry of the header. */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    /** The parsed, validated header of a file. */
    public record Header(List<Entry> entries, Map<String, String> metadata, long dataStart) {}

    public static Header readHeader(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(file, ch);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static Header readHeader(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) throw new CheckpointException(file + ": not a safetensors file (only " + size + " bytes)");
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(lenBuf, 0);
        long headerLen = lenBuf.flip().getLong();
        if (headerLen <= 0 || headerLen > MAX_HEADER || headerLen > size - 8) {
            throw new CheckpointException(file + ": not a safetensors file or truncated (header length " + headerLen
                    + ", file size " + size + ")");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        while (hb.hasRemaining()) {
            if (ch.read(hb, 8 + hb.position()) < 0) throw new CheckpointException(file + ": truncated header");
        }
        JsonNode root;
        try {
            root = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CheckpointException(file + ": safetensors header is not valid JSON: "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
        if (root == null || !root.isObject()) throw new CheckpointException(file + ": safetensors header is not a JSON object");
        long dataStart = 8 + headerLen;
        long dataSize = size - dataStart;
        List<Entry> entries = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals("__metadata__")) {
                v.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            entries.add(parseEntry(file, name, v, dataSize));
        }
        checkNoOverlap(file, entries);
        return new Header(entries, metadata, dataStart);
    }

    /** Two tensors may not share bytes (forbidden by the format; a writer that does it is broken or hostile). */
    private static void checkNoOverlap(Path file, List<Entry> entries) {
        List<Entry> byStart = new ArrayList<>(entries);
        byStart.removeIf(e -> e.begin() == e.end());
        byStart.sort(java.util.Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < byStart.size(); i++) {
            Entry a = byStart.get(i - 1), b = byStart.get(i);
            if (b.begin() < a.end()) {
                throw new CheckpointException(file + ": tensors '" + a.name() + "' and '" + b.name()
                        + "' overlap in the file (bytes " + b.begin() + ".." + Math.min(a.end(), b.end()) + ")");
            }
        }
    }

    private static Entry parseEntry(Path file, String name, JsonNode v, long dataSize) {
        String where = file + ": tensor '" + name + "'";
        DType dtype = DType.fromSafetensorsName(v.path("dtype").asText(""));
        if (dtype == null) throw new CheckpointException(where + " has unsupported dtype '" + v.path("dtype").asText() + "'");
        JsonNode shapeNode = v.path("shape");
        JsonNode offs = v.path("data_offsets");
        if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2) {
            throw new CheckpointException(where + " has a malformed header entry");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong(-1);
            if (shape[i] < 0 || !shapeNode.get(i).isIntegralNumber()) throw new CheckpointException(where + " has a bad shape " + shapeNode);
        }
        long begin = offs.get(0).asLong(-1), end = offs.get(1).asLong(-1);
        long expected;
        try {
            expected = Math.multiplyExact(Tensors.count(shape), dtype.bytes);
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + " has an impossible shape " + shapeNode);
        }
        if (begin < 0 || end < begin || end - begin != expected) {
            throw new CheckpointException(where + ": header offsets [" + begin + ", " + end + "] do not match "
                    + dtype.safetensorsName + " " + shapeNode + " (" + expected + " bytes)");
        }
        if (end > dataSize) {
            throw new CheckpointException(where + ": data ends at byte " + end + " but the file has only " + dataSize
                    + " data bytes (truncated file, or a header that lies about offsets)");
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    /** Reads every tensor, in header order, in the dtype stored. */
    public static Map<String, Tensor> read(Path file) {
        try (Lazy lazy = open(file)) {
            return StoredTensor.readAll(lazy.tensors());
        }
    }

    /**
     * A file's tensors by name, in header order, each read from the file only when asked ({@link StoredTensor#get}):
     * the file stays open until {@link Lazy#close}, so a checkpoint replaced meanwhile (a training run saving its next
     * one) is still read whole from the version that was opened.
     */
    public static Lazy open(Path file) {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
        }
        try {
            Header h = readHeader(file, ch);
            Map<String, StoredTensor> tensors = new LinkedHashMap<>();
            for (Entry e : h.entries()) {
                // float32 is stored little-endian, as it lies in memory here: the file's bytes are the values' own
                StoredTensor.Region region = e.dtype() == DType.F32
                        ? new StoredTensor.Region(ch, h.dataStart() + e.begin(), e.end() - e.begin()) : null;
                tensors.put(e.name(), StoredTensor.lazy(e.shape(), e.dtype(), () -> readTensor(file, ch, h, e), region));
            }
            return new Lazy(tensors, ch);
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            if (e instanceof CheckpointException c) throw c;
            throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** {@link #open}'s tensors and the open file they are read from. */
    public record Lazy(Map<String, StoredTensor> tensors, FileChannel channel) implements AutoCloseable {
        @Override
        public void close() {
            closeQuietly(channel);
        }
    }

    private static Tensor readTensor(Path file, FileChannel ch, Header h, Entry e) {
        // straight into the tensor's memory: a mapped file would add its pages to the process's RSS beside the
        // tensors until the garbage collector unmaps it (a ViT-B/32 load peaked at 2.1 GB)
        try {
            return Tensors.read(ch, h.dataStart() + e.begin(), e.dtype(), e.shape()); // size checked with the header
        } catch (java.io.EOFException eof) {
            throw new CheckpointException(file + ": truncated in tensor '" + e.name() + "'", eof);
        } catch (IOException io) {
            throw new CheckpointException(file + ": cannot read: " + io.getMessage(), io);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // read-only
        }
    }

    /** Writes tensors (in map order) and optional string metadata, atomically. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        List<Tensor> order = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue().contiguous();
            DType dtype = Tensors.dtype(t);
            long n = t.numel() * dtype.bytes;
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", dtype.safetensorsName);
            ArrayNode shape = entry.putArray("shape");
            for (long d : Tensors.shape(t)) shape.add(d);
            entry.putArray("data_offsets").add(offset).add(offset + n);
            offset += n;
            order.add(t);
        }
        byte[] headerBytes = JSON.writeValueAsBytes(header);
        int padded = (int) ((headerBytes.length + 8 + 7) / 8 * 8 - 8);
        byte[] h = java.util.Arrays.copyOf(headerBytes, padded);
        java.util.Arrays.fill(h, headerBytes.length, padded, (byte) ' ');
        AtomicFiles.write(file, out -> {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            out.write(h);
            for (Tensor t : order) out.write(Tensors.toBytes(t));
        });
    }
}
