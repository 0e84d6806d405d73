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
                org.bytedeco.javacpp.Loader.load(opencv_imgcodecs.class);
                opencv_core.setNumThreads(1); // one image per thread; no pool of its own beside libtorch's
                return true;
            } catch (Throwable e) { // UnsatisfiedLinkError, NoClassDefFoundError...: the caller falls back to ImageIO
                System.err.println("clip4j: OpenCV's image decoders are not available (" + e + "); using ImageIO");
                return false;
            }
        }
    }

    /**
     * Largest image (in bytes of samples) decoded into a thread's {@link #keepPixelBuffer kept buffer}; a larger one gets
     * memory of its own, freed when it is closed, so one huge image does not pin its size for the rest of the run.
     */
    static final long MAX_KEPT_PIXEL_BYTES = 64L << 20;

    /** A thread's kept buffer: grown, never shrunk; lent to one open {@link Decoded} at a time. */
    private static final class KeptPixels {
        BytePointer buffer;
        boolean lent, released;

        /** Back from its {@link Decoded}; freed now if the thread let it go meanwhile. */
        void giveBack() {
            lent = false;
            if (released && buffer != null) {
                buffer.deallocate();
                buffer = null;
            }
        }
    }

    private static final ThreadLocal<KeptPixels> KEPT_PIXELS = new ThreadLocal<>();

    /**
     * From now on this thread decodes into one native buffer of its own, grown to the largest image it has decoded (up to
     * {@link #MAX_KEPT_PIXEL_BYTES}), instead of fresh memory per image. Fresh memory is fresh pages, each faulted in
     * zeroed: decoding a folder of 7-megapixel JPEGs ran at 24 images/s that way and at 37 in warm pages (PIL: 31), and
     * the full-size pixels no longer fragment malloc's arena between the model's buffers. For threads that decode a
     * stream of photos ({@code image.LoaderThreads}); the thread calls {@link #releasePixelBuffer} when done.
     */
    public static void keepPixelBuffer() {
        if (KEPT_PIXELS.get() == null) KEPT_PIXELS.set(new KeptPixels());
    }

    /** Frees this thread's kept buffer, if any, and goes back to fresh memory per image. */
    public static void releasePixelBuffer() {
        KeptPixels kept = KEPT_PIXELS.get();
        KEPT_PIXELS.remove();
        if (kept == null) return;
        kept.released = true;
        if (!kept.lent) kept.giveBack(); // a lent one is freed when its Decoded closes
    }

    /** The size of the calling thread's kept buffer in bytes: 0 when it keeps none or has decoded nothing into it yet. */
    public static long keptPixelBytes() {
        KeptPixels kept = KEPT_PIXELS.get();
        return kept == null || kept.buffer == null ? 0 : kept.buffer.capacity();
    }

    /**
     * The calling thread's kept buffer with room for {@code bytes}, lent until the {@link Decoded} using it closes; null
     * when the thread keeps none, the image is too large, or the buffer is already lent.
     */
    private static KeptPixels lendKeptPixels(long bytes) {
        KeptPixels kept = KEPT_PIXELS.get();
        if (kept == null || kept.lent || bytes > MAX_KEPT_PIXEL_BYTES) return null;
        if (kept.buffer == null || kept.buffer.capacity() < bytes) {
            if (kept.buffer != null) kept.buffer.deallocate();
            kept.buffer = null;
            long size = Math.min(MAX_KEPT_PIXEL_BYTES, (bytes + (4L << 20) - 1) & -(4L << 20)); // whole 4 MB steps
            BytePointer b = new BytePointer(size);
            PointerScope outer = PointerScope.getInnerScope(); // a caller's scope must not free it
            if (outer != null) outer.detach(b);
            kept.buffer = b;
        }
        kept.lent = true;
        return kept;
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
        long samples = (long) width * height * channels;
        KeptPixels kept = width > 0 && height > 0 ? lendKeptPixels(samples) : null;
        PointerScope scope = new PointerScope();
        try {
            int n = bytes.length - cutLength;
            BytePointer data = new BytePointer(n);
            data.put(bytes, 0, cutLength > 0 ? cutFrom : n);
            if (cutLength > 0) data.position(cutFrom).put(bytes, cutFrom + cutLength, n - cutFrom).position(0);
            Mat in = new Mat(1, n, opencv_core.CV_8UC1, data);
            // a Mat of exactly the size and type the decoder will ask for is decoded into as it is (Mat::create keeps
            // it); if the file turns out otherwise, OpenCV allocates its own, freed with the scope, and the shape
            // check below refuses it
            Mat m = kept == null ? opencv_imgcodecs.imdecode(in, flags)
                    : opencv_imgcodecs.imdecode(in, flags, new Mat(height, width, opencv_core.CV_8UC(channels), kept.buffer));
            if (m == null || m.empty() || m.depth() != opencv_core.CV_8U || m.channels() != channels || m.cols() != width
                    || m.rows() != height || !m.isContinuous()) {
                scope.close();
                if (kept != null) kept.giveBack();
                return null;
            }
            return new Decoded(scope, kept, m.data().capacity(samples), (long) width * channels);
        } catch (RuntimeException | Error e) {
            scope.close();
            if (kept != null) kept.giveBack();
            throw e;
        }
    }

    /** A decoded image's samples in native memory, row by row; freed by {@link #close}. */
    public static final class Decoded implements AutoCloseable {
        private final PointerScope scope;
        private final KeptPixels kept; // the thread's buffer the samples are in, or null (then they are the scope's)
        private final BytePointer data;
        private final long rowBytes;
        private boolean closed;

        private Decoded(PointerScope scope, KeptPixels kept, BytePointer data, long rowBytes) {
            this.scope = scope;
            this.kept = kept;
            this.data = data;
            this.rowBytes = rowBytes;
        }

        /** Row {@code y}'s {@code width × channels} samples into {@code into} from index 0. */
        public void readRow(int y, byte[] into) {
            if (closed) throw new IllegalStateException("a decoded image read after it was closed");
            if (y < 0 || (y + 1) * rowBytes > data.capacity() || into.length < rowBytes) {
                throw new IndexOutOfBoundsException("row " + y + " of a decoded image");
            }
            data.position(y * rowBytes).get(into, 0, (int) rowBytes);
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            scope.close();
            if (kept != null) kept.giveBack();
        }
    }
}
