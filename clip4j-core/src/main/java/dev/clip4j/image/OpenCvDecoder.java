package dev.clip4j.image;

import dev.clip4j.torch.ImageCodecs;

/**
 * JPEG and plain 8-bit PNG decoding through OpenCV's imgcodecs (Bytedeco's opencv preset: libjpeg-turbo and libpng).
 * PIL decodes JPEG with libjpeg-turbo too, with the same defaults (islow IDCT, fancy upsampling), so the pixels are
 * PIL's bit for bit, where ImageIO's own JPEG decoder differs by ±1 here and there; and it is 2–3× faster than ImageIO
 * for both formats.
 *
 * <p>Only files whose PIL mode OpenCV reproduces exactly are taken: JPEG with 8-bit samples and 1 or 3 components
 * (L, RGB) that ends with its EOI marker, and PNG of 8-bit grey, RGB or RGBA ending with IEND. A grey or RGB PNG's
 * tRNS chunk is left out before decoding: PIL keeps such an image in mode L or RGB (the transparency only in its
 * {@code info}, which {@code convert("RGB")} ignores), where libpng would add an alpha band. Everything else
 * (palette, grey + alpha, 16-bit or CMYK images, truncated files) gets {@code null}, and the caller uses ImageIO's
 * path, which reproduces PIL's mode or PIL's error. EXIF orientation is ignored, as PIL's {@code Image.open} does.
 * The native calls are the facade's ({@link ImageCodecs}); where its natives cannot load (or with
 * {@code -Dclip4j.imageDecoder=imageio}), every call gets {@code null}.
 */
final class OpenCvDecoder {
    private OpenCvDecoder() {}

    /**
     * The pixel layout a header promises: dimensions and the PIL mode; whether it is a JPEG (decoded straight to RGB or
     * grey, EXIF orientation ignored; a PNG is read unchanged, as BGR(A)); and a PNG's tRNS chunk to leave out
     * ({@code cutLength} bytes from {@code cutFrom}; 0 for none).
     */
    record Header(int width, int height, PixelMode mode, boolean jpeg, int cutFrom, int cutLength) {
        Header(int width, int height, PixelMode mode, boolean jpeg) {
            this(width, height, mode, jpeg, 0, 0);
        }

        ImageCodecs.Layout layout() {
            return !jpeg ? ImageCodecs.Layout.AS_STORED : mode == PixelMode.L ? ImageCodecs.Layout.JPEG_GREY : ImageCodecs.Layout.JPEG_RGB;
        }
    }

    /** Whether OpenCV's decoders are in use in this JVM (loads them on first call). */
    static boolean available() {
        return ImageCodecs.available();
    }

    /** The header of a JPEG or PNG that OpenCV decodes exactly as PIL would, or null for ImageIO's path. */
    static Header supported(byte[] b) {
        if (b.length > 4 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8) return jpeg(b);
        if (b.length > 45 && (b[0] & 0xFF) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') return png(b);
        return null;
    }

    /**
     * Decodes {@code bytes} if {@link #supported} and the natives are available, else null. The caller has checked the
     * pixel limit against {@code header}; a file OpenCV refuses or decodes to another shape also gets null.
     */
    static RasterImage decode(byte[] bytes, Header header) {
        if (header == null) return null; // ImageCodecs.decode itself answers null where the natives are unavailable
        int bands = header.mode().bands;
        byte[] px = ImageCodecs.decode(bytes, header.cutFrom(), header.cutLength(), header.layout(), header.width(), header.height(), bands);
        if (px == null) return null;
        if (!header.jpeg()) toRgb(px, px.length, bands);
        return new RasterImage(header.mode(), header.width(), header.height(), px, null);
    }

    /**
     * As {@link #decode}, the samples left in native memory and given to {@code use} a row at a time (freed when it
     * returns); null where {@link #decode} gives null, else what {@code use} returns (never null).
     */
    static <T> T decodeThen(byte[] bytes, Header header, java.util.function.Function<PilResize.Source, T> use) {
        return decodeThen(bytes, header, WHOLE_READ_BYTES, use);
    }

    /**
     * Images of up to this many bytes of samples are copied into the heap in one piece and read in place: one native
     * call instead of one per row, where a small photo's rows are short (the photo-folder path ran at 0.7-0.9x the
     * whole-image path on 180-640 px JPEGs), and no heap worth keeping out.
     */
    static final int WHOLE_READ_BYTES = 1 << 20;

    /** As {@link #decodeThen(byte[], Header, java.util.function.Function)}, read whole up to {@code wholeBelow} bytes. */
    static <T> T decodeThen(byte[] bytes, Header header, int wholeBelow, java.util.function.Function<PilResize.Source, T> use) {
        int bands = header.mode().bands, rowBytes = header.width() * bands;
        if ((long) rowBytes * header.height() <= wholeBelow) {
            RasterImage whole = decode(bytes, header);
            return whole == null ? null : use.apply(PilResize.Source.of(whole));
        }
        try (ImageCodecs.Decoded d = ImageCodecs.open(bytes, header.cutFrom(), header.cutLength(), header.layout(),
                header.width(), header.height(), bands)) {
            if (d == null) return null;
            return use.apply(PilResize.Source.ofRows(header.mode(), header.width(), header.height(), (y, scratch) -> {
                d.readRow(y, scratch);
                if (!header.jpeg()) toRgb(scratch, rowBytes, bands);
            }));
        }
    }

    /** A PNG's BGR(A) samples, as libpng gives them to OpenCV, to PIL's RGB(A) (grey left as is). */
    private static void toRgb(byte[] px, int n, int bands) {
        if (bands < 3) return;
        for (int i = 0; i < n; i += bands) {
            byte t = px[i];
            px[i] = px[i + 2];
            px[i + 2] = t;
        }
    }

    /** Walks the markers to the frame header: 8-bit samples, 1 or 3 components, and an EOI at the very end. */
    private static Header jpeg(byte[] b) {
        int n = b.length;
        if ((b[n - 2] & 0xFF) != 0xFF || (b[n - 1] & 0xFF) != 0xD9) return null; // truncated, or trailing data
        int at = 2;
        while (at + 4 <= n) {
            if ((b[at] & 0xFF) != 0xFF) return null;
            int marker = b[at + 1] & 0xFF;
            if (marker == 0xFF) { // fill byte
                at++;
                continue;
            }
            if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { // no length
                at += 2;
                continue;
            }
            int len = ((b[at + 2] & 0xFF) << 8) | (b[at + 3] & 0xFF);
            if (len < 2 || at + 2 + len > n) return null;
            boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (sof) {
                if (len < 8) return null;
                int precision = b[at + 4] & 0xFF;
                int h = ((b[at + 5] & 0xFF) << 8) | (b[at + 6] & 0xFF), w = ((b[at + 7] & 0xFF) << 8) | (b[at + 8] & 0xFF);
                int components = b[at + 9] & 0xFF;
                if (precision != 8 || w == 0 || h == 0) return null;
                return components == 1 ? new Header(w, h, PixelMode.L, true) : components == 3 ? new Header(w, h, PixelMode.RGB, true) : null;
            }
            if (marker == 0xDA || marker == 0xD9) return null; // scan or end before any frame header
            at += 2 + len;
        }
        return null;
    }

    /** IHDR of an 8-bit grey, RGB or RGBA image (any tRNS before the image data to be cut), IEND the last chunk. */
    private static Header png(byte[] b) {
        if (b[4] != 0x0D || b[5] != 0x0A || b[6] != 0x1A || b[7] != 0x0A) return null;
        if (!type(b, 12, "IHDR") || !type(b, b.length - 8, "IEND")) return null;
        long w = u32(b, 16), h = u32(b, 20);
        int depth = b[24] & 0xFF, colour = b[25] & 0xFF;
        if (depth != 8 || w <= 0 || h <= 0 || w > Integer.MAX_VALUE || h > Integer.MAX_VALUE) return null;
        PixelMode mode = switch (colour) {
            case 0 -> PixelMode.L;
            case 2 -> PixelMode.RGB;
            case 6 -> PixelMode.RGBA;
            default -> null; // palette (P) and grey + alpha (LA) keep ImageIO's path
        };
        if (mode == null) return null;
        int cutFrom = 0, cutLength = 0;
        for (long at = 8; at + 8 <= b.length; ) {
            long len = u32(b, (int) at);
            if (type(b, (int) at + 4, "tRNS")) {
                if (mode == PixelMode.RGBA || cutLength > 0 || at + 12 + len > b.length) return null;
                cutFrom = (int) at;
                cutLength = (int) (12 + len);
            }
            if (type(b, (int) at + 4, "IDAT")) return new Header((int) w, (int) h, mode, false, cutFrom, cutLength);
            at += 12 + len;
        }
        return null;
    }

    private static long u32(byte[] b, int at) {
        return ((long) (b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8) | (b[at + 3] & 0xFF);
    }

    private static boolean type(byte[] b, int at, String t) {
        if (at < 0 || at + 4 > b.length) return false;
        for (int i = 0; i < 4; i++) if (b[at + i] != t.charAt(i)) return false;
        return true;
    }
}
