package dev.clip4j.torch;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * OpenCV's image decoders (Bytedeco's opencv preset: libjpeg-turbo, libpng) behind the native facade: bytes in, 8-bit
 * interleaved samples out, every native object freed by one scope. Which files may come here, and what the samples
 * mean in PIL's terms, is {@code image.OpenCvDecoder}'s business. The natives load on first use; where they cannot
 * (or with {@code -Dclip4j.imageDecoder=imageio}), {@link #available()} is false.
 */
public final class ImageCodecs {
    private ImageCodecs() {}

    /** How to read: as stored (a PNG's grey, BGR or BGRA), or a JPEG straight to grey or RGB, EXIF orientation ignored. */
    public enum Layout { AS_STORED, JPEG_GREY, JPEG_RGB }

    /** Holder idiom: the natives are loaded by the first decode, never when only ImageIO is wanted. */
    private static final class Natives {
        static final boolean LOADED = load();

        private static boolean load() {
            if ("imageio".equals(System.getProperty("clip4j.imageDecoder", "auto"))) return false;
            try {
                CpuPlatform.pin();
                org.bytedeco.javacpp.Loader.load(opencv_imgcodecs.class);
                opencv_core.setNumThreads(1); // one image per thread; no pool of its own beside libtorch's
                return true;
            } catch (Throwable e) { // UnsatisfiedLinkError, NoClassDefFoundError...: the caller falls back to ImageIO
                System.err.println("clip4j: OpenCV's image decoders are not available (" + e + "); using ImageIO");
                return false;
            }
        }
    }

    /** Whether OpenCV's decoders are in use in this JVM (loads them on first call). */
    public static boolean available() {
        return Natives.LOADED;
    }

    /**
     * Decodes {@code bytes} less the {@code cutLength} bytes at {@code cutFrom} (a chunk to leave out; 0 for none) into
     * {@code height × width × channels} 8-bit samples, or null when OpenCV refuses the file or gives another shape.
     */
    public static byte[] decode(byte[] bytes, int cutFrom, int cutLength, Layout layout, int width, int height, int channels) {
        try (Decoded d = open(bytes, cutFrom, cutLength, layout, width, height, channels)) {
            if (d == null) return null;
            byte[] px = new byte[width * height * channels];
            d.data.get(px);
            return px;
        }
    }

    /**
     * As {@link #decode}, the samples left in native memory to be read a row at a time ({@link Decoded#readRow}), so
     * work that only resizes a photo never holds its full-size pixels in the Java heap. Null where {@link #decode}
     * gives null. The caller closes it, on the thread that opened it (its native objects live in a {@link PointerScope}
     * of that thread, and nothing else may be allocated in the facade between opening and closing).
     */
    public static Decoded open(byte[] bytes, int cutFrom, int cutLength, Layout layout, int width, int height, int channels) {
        if (!available()) return null;
        int flags = switch (layout) {
            case AS_STORED -> opencv_imgcodecs.IMREAD_UNCHANGED; // 8-bit, alpha kept, no orientation applied
            case JPEG_GREY -> opencv_imgcodecs.IMREAD_GRAYSCALE | opencv_imgcodecs.IMREAD_IGNORE_ORIENTATION;
            case JPEG_RGB -> opencv_imgcodecs.IMREAD_COLOR_RGB | opencv_imgcodecs.IMREAD_IGNORE_ORIENTATION;
        };
        PointerScope scope = new PointerScope();
        try {
            int n = bytes.length - cutLength;
            BytePointer data = new BytePointer(n);
            data.put(bytes, 0, cutLength > 0 ? cutFrom : n);
            if (cutLength > 0) data.position(cutFrom).put(bytes, cutFrom + cutLength, n - cutFrom).position(0);
            Mat m = opencv_imgcodecs.imdecode(new Mat(1, n, opencv_core.CV_8UC1, data), flags);
            if (m == null || m.empty() || m.depth() != opencv_core.CV_8U || m.channels() != channels || m.cols() != width
                    || m.rows() != height || !m.isContinuous()) {
                scope.close();
                return null;
            }
            return new Decoded(scope, m.data().capacity((long) width * height * channels), (long) width * channels);
        } catch (RuntimeException | Error e) {
            scope.close();
            throw e;
        }
    }

    /** A decoded image's samples in native memory, row by row; freed by {@link #close}. */
    public static final class Decoded implements AutoCloseable {
        private final PointerScope scope;
        private final BytePointer data;
        private final long rowBytes;

        private Decoded(PointerScope scope, BytePointer data, long rowBytes) {
            this.scope = scope;
            this.data = data;
            this.rowBytes = rowBytes;
        }

        /** Row {@code y}'s {@code width × channels} samples into {@code into} from index 0. */
        public void readRow(int y, byte[] into) {
            if (y < 0 || (y + 1) * rowBytes > data.capacity() || into.length < rowBytes) {
                throw new IndexOutOfBoundsException("row " + y + " of a decoded image");
            }
            data.position(y * rowBytes).get(into, 0, (int) rowBytes);
        }

        @Override
        public void close() {
            scope.close();
        }
    }
}
