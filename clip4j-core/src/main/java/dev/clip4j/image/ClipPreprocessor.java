package dev.clip4j.image;

import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code clip._transform(n_px)}: Resize(n_px, BICUBIC) of the shorter side, CenterCrop(n_px), convert("RGB"),
 * ToTensor, Normalize with CLIP's mean and std — giving the same float32 values as the reference.
 */
public final class ClipPreprocessor {
    public static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    public static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};

    private final int size;

    public ClipPreprocessor(int size) {
        if (size <= 0) throw new IllegalArgumentException("image size must be positive, got " + size);
        this.size = size;
    }

    public int size() {
        return size;
    }

    /** Resize (shorter side to {@code size}, torchvision's rounding) then center crop, still in the image's mode. */
    public RasterImage resizeAndCrop(RasterImage img) {
        return resizeAndCrop(PilResize.Source.of(img));
    }

    /** An encoded image's size and its {@link #resizeAndCrop}. */
    public record Resized(int width, int height, RasterImage image) {}

    /**
     * {@link ImageDecoder#decode} then {@link #resizeAndCrop}, with the same values, limits and errors; where OpenCV
     * decodes, the resize reads the full-size pixels out of native memory a row at a time, so that a photo collection
     * (the index build, {@code embed --images}) never puts its full-size pixels in the Java heap, where each large
     * photo was a short-lived array of tens of megabytes that grew the heap.
     */
    public Resized decodeResizeAndCrop(byte[] bytes, String name) {
        return ImageDecoder.decodeThen(bytes, name, src -> new Resized(src.width, src.height, resizeAndCrop(src)));
    }

    RasterImage resizeAndCrop(PilResize.Source img) {
        int w = img.width, h = img.height;
        int newW, newH;
        if (w <= h) {
            newW = size;
            newH = (int) ((double) ((long) size * h) / w);
        } else {
            newH = size;
            newW = (int) ((double) ((long) size * w) / h);
        }
        int top = (int) Math.rint((newH - size) / 2.0);   // Python round(): half to even
        int left = (int) Math.rint((newW - size) / 2.0);
        return PilResize.bicubic(img, newW, newH, left, top, size, size); // only the crop's pixels are computed
    }

    /** The {@code w x h} region at ({@code left}, {@code top}). */
    public static RasterImage crop(RasterImage img, int left, int top, int w, int h) {
        int bands = img.mode().bands;
        byte[] out = new byte[w * h * bands];
        for (int y = 0; y < h; y++) {
            System.arraycopy(img.samples(), ((top + y) * img.width() + left) * bands, out, y * w * bands, w * bands);
        }
        return new RasterImage(img.mode(), w, h, out, img.palette());
    }

    /** convert("RGB"): grayscale replicated, alpha dropped (not composited), palette looked up. */
    public static int[] rgb(RasterImage img, int x, int y) {
        return switch (img.mode()) {
            case L, LA -> {
                int v = img.sample(x, y, 0);
                yield new int[] {v, v, v};
            }
            case RGB, RGBA -> new int[] {img.sample(x, y, 0), img.sample(x, y, 1), img.sample(x, y, 2)};
            case P -> {
                int c = img.palette()[img.sample(x, y, 0)];
                yield new int[] {(c >> 16) & 0xFF, (c >> 8) & 0xFF, c & 0xFF};
            }
        };
    }

    /** {@code (v / 255f - MEAN[c]) / STD[c]} for every byte value v and channel c: the same float operations, once. */
    private static final float[][] NORMALIZED = new float[3][256];

    static {
        for (int c = 0; c < 3; c++) for (int v = 0; v < 256; v++) NORMALIZED[c][v] = ((float) v / 255f - MEAN[c]) / STD[c];
    }

    /** ToTensor + Normalize into CHW float32 values (convert("RGB") first: grey replicated, alpha dropped, palette looked up). */
    public static float[] normalize(RasterImage img) {
        float[] out = new float[3 * img.width() * img.height()];
        normalizeInto(img, out);
        return out;
    }

    /** {@link #normalize} into {@code out} (reused image after image by {@link #batchOf}). */
    private static void normalizeInto(RasterImage img, float[] out) {
        int plane = img.width() * img.height(), bands = img.mode().bands;
        byte[] s = img.samples();
        float[] r = NORMALIZED[0], g = NORMALIZED[1], b = NORMALIZED[2];
        switch (img.mode()) {
            case L, LA -> {
                for (int i = 0, p = 0; i < plane; i++, p += bands) {
                    int v = s[p] & 0xFF;
                    out[i] = r[v];
                    out[plane + i] = g[v];
                    out[2 * plane + i] = b[v];
                }
            }
            case RGB, RGBA -> {
                for (int i = 0, p = 0; i < plane; i++, p += bands) {
                    out[i] = r[s[p] & 0xFF];
                    out[plane + i] = g[s[p + 1] & 0xFF];
                    out[2 * plane + i] = b[s[p + 2] & 0xFF];
                }
            }
            case P -> {
                int[] palette = img.palette();
                for (int i = 0; i < plane; i++) {
                    int c = palette[s[i] & 0xFF];
                    out[i] = r[(c >> 16) & 0xFF];
                    out[plane + i] = g[(c >> 8) & 0xFF];
                    out[2 * plane + i] = b[c & 0xFF];
                }
            }
        }
    }

    public float[] toArray(RasterImage img) {
        return normalize(resizeAndCrop(img));
    }

    /** One image as a [3, size, size] tensor. */
    public Tensor preprocess(Path file) {
        return Tensors.fromFloats(toArray(ImageDecoder.read(file)), 3, size, size);
    }

    /** Several images, from anywhere, as a [N, 3, size, size] batch. */
    public Tensor batchInputs(List<ImageInput> images) {
        return batchOf(images.size(), i -> images.get(i).decode());
    }

    /** Several images as a [N, 3, size, size] batch. */
    public Tensor batch(List<Path> files) {
        return batchOf(files.size(), i -> ImageDecoder.read(files.get(i)));
    }

    /**
     * Image after image normalised into one reused array and copied into the batch tensor: a batch of 16 at 224 px
     * would otherwise be a 9.6 MB array, garbage as soon as it is copied, that the collector has to find room for.
     */
    private Tensor batchOf(int n, java.util.function.IntFunction<RasterImage> image) {
        Tensor batch = Tensors.empty(dev.clip4j.torch.DType.F32, n, 3, size, size);
        java.nio.FloatBuffer out = Tensors.floatBuffer(batch);
        float[] one = new float[3 * size * size];
        for (int i = 0; i < n; i++) {
            normalizeInto(resizeAndCrop(image.apply(i)), one);
            out.put(one);
        }
        return batch;
    }
}
