package dev.clip4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.checkpoint.Safetensors;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Clips as precomputed frame features with captions, for the single-stream model's video setting: one safetensors file
 * holding {@code features} [N, T, D] (F32, F16 or BF16), {@code mask} [N, T] (which frames exist: BOOL, U8, I64 or
 * F32 of 0/1) and, in its metadata, {@code captions}: a JSON array of N strings. Features are read per batch from the
 * file (only the mask and captions are held in memory), so the set can be larger than the heap.
 */
public final class FrameFeatureDataset {
    public static final int MAX_FRAMES = 4096, MAX_DIM = 65536;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final int size, frames, dim;
    private final DType dtype;
    private final long featuresStart;
    private final boolean[] valid;
    private final List<String> captions;

    /** Whether a data spec names a frame-feature file (a path ending in {@code .safetensors}). */
    public static boolean isFrameData(String spec) {
        return spec != null && spec.endsWith(".safetensors");
    }

    public static FrameFeatureDataset open(String spec) {
        return new FrameFeatureDataset(Path.of(spec));
    }

    private FrameFeatureDataset(Path file) {
        this.file = file;
        Safetensors.Header h;
        try {
            h = Safetensors.readHeader(file);
        } catch (dev.clip4j.InputException e) {
            throw new DatasetException(e.getMessage());
        }
        Map<String, Safetensors.Entry> byName = new LinkedHashMap<>();
        h.entries().forEach(e -> byName.put(e.name(), e));
        Safetensors.Entry f = byName.get("features"), m = byName.get("mask");
        if (f == null || m == null) throw new DatasetException(file + ": a frame-feature file needs tensors 'features' [N, T, D] and 'mask' [N, T]");
        if (f.shape().length != 3) throw new DatasetException(file + ": 'features' must be [N, T, D], got " + java.util.Arrays.toString(f.shape()));
        if (f.dtype() != DType.F32 && f.dtype() != DType.F16 && f.dtype() != DType.BF16) {
            throw new DatasetException(file + ": 'features' must be F32, F16 or BF16, got " + f.dtype().safetensorsName);
        }
        long n = f.shape()[0], t = f.shape()[1], d = f.shape()[2];
        if (n < 1 || n > Integer.MAX_VALUE / 2) throw new DatasetException(file + ": 'features' holds " + n + " clips");
        if (t < 1 || t > MAX_FRAMES) throw new DatasetException(file + ": " + t + " frames per clip; the limit is " + MAX_FRAMES);
        if (d < 1 || d > MAX_DIM) throw new DatasetException(file + ": frame dimension " + d + "; the limit is " + MAX_DIM);
        if (m.shape().length != 2 || m.shape()[0] != n || m.shape()[1] != t) {
            throw new DatasetException(file + ": 'mask' must be [" + n + ", " + t + "] like the features, got " + java.util.Arrays.toString(m.shape()));
        }
        size = (int) n;
        frames = (int) t;
        dim = (int) d;
        dtype = f.dtype();
        featuresStart = h.dataStart() + f.begin();
        valid = readMask(m, h.dataStart());
        for (int i = 0; i < size; i++) {
            boolean any = false;
            for (int j = 0; j < frames; j++) any |= valid[i * frames + j];
            if (!any) throw new DatasetException(file + ": clip " + i + " has no valid frame in 'mask'");
        }
        captions = readCaptions(h.metadata().get("captions"));
    }

    private boolean[] readMask(Safetensors.Entry m, long dataStart) {
        ByteBuffer b = read(dataStart + m.begin(), m.end() - m.begin());
        boolean[] out = new boolean[size * frames];
        for (int i = 0; i < out.length; i++) {
            double v = switch (m.dtype()) {
                case BOOL, U8 -> b.get(i) & 0xff;
                case I64 -> b.getLong(8 * i);
                case F32 -> b.getFloat(4 * i);
                default -> throw new DatasetException(file + ": 'mask' must be BOOL, U8, I64 or F32, got " + m.dtype().safetensorsName);
            };
            if (v != 0 && v != 1) throw new DatasetException(file + ": 'mask' holds " + v + " at " + i + "; it must be 0 or 1");
            out[i] = v == 1;
        }
        return out;
    }

    private List<String> readCaptions(String json) {
        if (json == null) throw new DatasetException(file + ": its metadata has no 'captions' (a JSON array of " + size + " strings)");
        JsonNode arr;
        try {
            arr = JSON.readTree(json);
        } catch (IOException e) {
            throw new DatasetException(file + ": metadata 'captions' is not JSON: " + e.getMessage());
        }
        if (arr == null || !arr.isArray() || arr.size() != size) {
            throw new DatasetException(file + ": metadata 'captions' must be a JSON array of " + size + " strings (one per clip)");
        }
        List<String> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            JsonNode c = arr.get(i);
            if (!c.isTextual() || c.asText().isBlank()) throw new DatasetException(file + ": caption " + i + " is not a non-empty string");
            out.add(c.asText());
        }
        return List.copyOf(out);
    }

    private ByteBuffer read(long offset, long length) {
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(length)).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (b.hasRemaining()) {
                if (ch.read(b, offset + b.position()) < 0) throw new DatasetException(file + ": truncated");
            }
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read: " + e.getMessage(), e);
        }
        return b.flip();
    }

    public String name() {
        return file.getFileName().toString();
    }

    public int size() {
        return size;
    }

    public int frames() {
        return frames;
    }

    public int dim() {
        return dim;
    }

    public String caption(int i) {
        return captions.get(i);
    }

    public boolean valid(int clip, int frame) {
        return valid[clip * frames + frame];
    }

    /** The features of the given clips as float32 [n, T, D] (a new tensor), checked finite. */
    public Tensor features(int[] clips) {
        long row = (long) frames * dim * dtype.bytes;
        ByteBuffer all = ByteBuffer.allocateDirect(Math.toIntExact(row * clips.length)).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (int i = 0; i < clips.length; i++) {
                if (clips[i] < 0 || clips[i] >= size) throw new IndexOutOfBoundsException("clip " + clips[i] + " of " + size);
                ByteBuffer slice = all.slice(Math.toIntExact(row * i), Math.toIntExact(row));
                long at = featuresStart + row * clips[i];
                while (slice.hasRemaining()) {
                    if (ch.read(slice, at + slice.position()) < 0) throw new DatasetException(file + ": truncated features");
                }
            }
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read: " + e.getMessage(), e);
        }
        try (Scope s = Scope.open()) {
            Tensor t = s.keep(Tensors.to(Tensors.fromBytes(all, dtype, clips.length, frames, dim), DType.F32));
            if (!Tensors.allFinite(t)) throw new DatasetException(file + ": features of the clips " + java.util.Arrays.toString(clips) + " hold NaN or infinite values");
            return t;
        }
    }

    /** The validity of the given clips' frames, [n·T] row-major. */
    public boolean[] mask(int[] clips) {
        boolean[] out = new boolean[clips.length * frames];
        for (int i = 0; i < clips.length; i++) System.arraycopy(valid, clips[i] * frames, out, i * frames, frames);
        return out;
    }

    /** Writes a frame-feature file (float32 features): for generators, tests and users converting their own data. */
    public static void write(Path file, float[] features, int clips, int frames, int dim, boolean[] mask, List<String> captions)
            throws IOException {
        if (features.length != (long) clips * frames * dim || mask.length != clips * frames || captions.size() != clips) {
            throw new IllegalArgumentException("features, mask and captions disagree on the number of clips");
        }
        try (Scope s = Scope.open()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("features", Tensors.fromFloats(features, clips, frames, dim));
            tensors.put("mask", Tensors.to(Tensors.fromBooleans(mask, clips, frames), DType.U8));
            Safetensors.write(file, tensors, Map.of("captions", JSON.writeValueAsString(captions)));
        }
    }
}
