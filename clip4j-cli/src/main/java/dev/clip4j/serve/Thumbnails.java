package dev.clip4j.serve;

import dev.clip4j.image.ClipPreprocessor;
import dev.clip4j.image.ImageDecoder;
import dev.clip4j.image.PilResize;
import dev.clip4j.image.PixelMode;
import dev.clip4j.image.RasterImage;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Thumbnails of indexed images: decoded with the same limits as any image, converted to RGB, resized (PIL's
 * bicubic, longer side = size) and re-encoded as JPEG, so the service never sends a file's own bytes. The most
 * recent ones are kept in memory, up to {@link #CACHE_BYTES}.
 */
final class Thumbnails {
    static final int MIN_SIZE = 16, MAX_SIZE = 1024, DEFAULT_SIZE = 256;
    private static final long CACHE_BYTES = 64L << 20;
    private final Map<String, byte[]> cache = new LinkedHashMap<>(256, 0.75f, true);
    private long cached;

    byte[] get(Path file, int size) {
        String key = size + ":" + file;
        synchronized (this) {
            byte[] hit = cache.get(key);
            if (hit != null) return hit;
        }
        byte[] jpeg = render(file, size);
        synchronized (this) {
            if (cache.put(key, jpeg) == null) cached += jpeg.length;
            var it = cache.entrySet().iterator();
            while (cached > CACHE_BYTES && it.hasNext()) {
                cached -= it.next().getValue().length;
                it.remove();
            }
        }
        return jpeg;
    }

    /** convert("RGB") as the preprocessing does it ({@link ClipPreprocessor#rgb}), so PIL's resize sees three bands. */
    private static RasterImage toRgb(RasterImage in) {
        if (in.mode() == PixelMode.RGB) return in;
        byte[] out = new byte[in.width() * in.height() * 3];
        for (int y = 0, i = 0; y < in.height(); y++) {
            for (int x = 0; x < in.width(); x++) for (int c : ClipPreprocessor.rgb(in, x, y)) out[i++] = (byte) c;
        }
        return new RasterImage(PixelMode.RGB, in.width(), in.height(), out, null);
    }

    private static byte[] render(Path file, int size) {
        RasterImage rgb = toRgb(ImageDecoder.read(file));
        double scale = Math.min(1.0, (double) size / Math.max(rgb.width(), rgb.height()));
        int w = Math.max(1, (int) Math.round(rgb.width() * scale)), h = Math.max(1, (int) Math.round(rgb.height() * scale));
        RasterImage small = scale < 1 ? PilResize.bicubic(rgb, w, h) : rgb;
        BufferedImage out = new BufferedImage(small.width(), small.height(), BufferedImage.TYPE_INT_RGB);
        byte[] s = small.samples();
        for (int y = 0, i = 0; y < small.height(); y++) {
            for (int x = 0; x < small.width(); x++, i += 3) out.setRGB(x, y, (s[i] & 0xFF) << 16 | (s[i + 1] & 0xFF) << 8 | (s[i + 2] & 0xFF));
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ImageIO.write(out, "jpeg", bytes);
        } catch (IOException e) {
            throw new IllegalStateException("JPEG encoding failed", e);
        }
        return bytes.toByteArray();
    }
}
