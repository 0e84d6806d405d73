package dev.clip4j.image;

import dev.clip4j.io.InputLimits;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads PNG, JPEG, BMP and GIF files into the PIL mode PIL would open them in, taking raw samples (never
 * ImageIO's colour-converted RGB, which would, for example, gamma-map grayscale). JPEG and plain 8-bit PNG go through
 * OpenCV's libjpeg-turbo and libpng where they load ({@link OpenCvDecoder}: PIL's pixels exactly, and faster); the
 * rest, and everything when OpenCV is unavailable, through ImageIO.
 */
public final class ImageDecoder {
    private ImageDecoder() {}

    public static RasterImage read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ImageException(file + ": no such file");
        } catch (IOException e) {
            throw new ImageException(file + ": cannot read: " + e.getMessage());
        } catch (OutOfMemoryError e) {
            throw new ImageException(file + ": file too large to read into the Java heap");
        }
        return decode(bytes, file.toString());
    }

    /**
     * Decodes an encoded image (PNG, JPEG, BMP, GIF). Its pixel count is read from the header and checked against
     * {@link InputLimits#MAX_IMAGE_PIXELS} before any pixel memory is taken (PIL's DecompressionBombError), and a
     * truncated file is an error, as PIL's "image file is truncated" (ImageIO would fill the rest with grey).
     *
     * @param name what the error messages call the image (its path, or an upload's name)
     */
    public static RasterImage decode(byte[] bytes, String name) {
        OpenCvDecoder.Header header = OpenCvDecoder.supported(bytes);
        if (header != null && OpenCvDecoder.available()) {
            checkPixels(header.width(), header.height(), name);
            try {
                RasterImage decoded = OpenCvDecoder.decode(bytes, header);
                if (decoded != null) return decoded;
            } catch (OutOfMemoryError e) {
                throw new ImageException(name + ": image too large to decode in the Java heap (raise -Xmx in CLIP4J_JAVA_OPTS)");
            }
        }
        return decodeWithImageIO(bytes, name);
    }

    /**
     * {@link #decode} handed straight to {@code use} as rows: where OpenCV decodes, the samples stay in native memory
     * and are read a row at a time (freed when {@code use} returns), else the decoded image is read in place. Same
     * limits, pixels and errors as {@link #decode}.
     */
    static <T> T decodeThen(byte[] bytes, String name, java.util.function.Function<PilResize.Source, T> use) {
        OpenCvDecoder.Header header = OpenCvDecoder.supported(bytes);
        if (header != null && OpenCvDecoder.available()) {
            checkPixels(header.width(), header.height(), name);
            T done = OpenCvDecoder.decodeThen(bytes, header, use);
            if (done != null) return done;
        }
        return use.apply(PilResize.Source.of(decodeWithImageIO(bytes, name)));
    }

    /** PIL's DecompressionBombError, from the header's size before any pixel memory is taken. */
    private static void checkPixels(long w, long h, String name) {
        long max = InputLimits.MAX_IMAGE_PIXELS.get();
        if (w <= 0 || h <= 0) throw new ImageException(name + ": image has no pixels");
        if (w * h > max) {
            throw new ImageException(name + ": " + w + "x" + h + " = " + w * h + " pixels is over the image limit of "
                    + max + " (" + InputLimits.MAX_IMAGE_PIXELS.hint() + ")");
        }
    }

    /** Java's own decoders: every format and mode, and the truncation check, for what OpenCV's path does not take. */
    static RasterImage decodeWithImageIO(byte[] bytes, String name) {
        BufferedImage img;
        // An in-memory stream: ImageIO.createImageInputStream would spool to a temporary file by default.
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new ImageException(name + ": not an image in a supported format (PNG, JPEG, BMP, GIF)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                checkPixels(reader.getWidth(0), reader.getHeight(0), name);
                List<String> truncated = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> {
                    if (warning != null && warning.toLowerCase(java.util.Locale.ROOT).contains("premature end")) truncated.add(warning);
                });
                img = reader.read(0);
                if (!truncated.isEmpty()) throw new ImageException(name + ": image file is truncated (" + truncated.get(0) + ")");
            } finally {
                reader.dispose();
            }
        } catch (ImageException e) {
            throw e;
        } catch (OutOfMemoryError e) {
            throw new ImageException(name + ": image too large to decode in the Java heap (raise -Xmx in CLIP4J_JAVA_OPTS)");
        } catch (IOException | RuntimeException e) {
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (e instanceof javax.imageio.IIOException || e instanceof java.io.EOFException || m.contains("EOF")) {
                throw new ImageException(name + ": cannot decode image (truncated or corrupt): " + m);
            }
            throw new ImageException(name + ": cannot decode image: " + m);
        }
        if (img == null) throw new ImageException(name + ": not an image in a supported format (PNG, JPEG, BMP, GIF)");
        try {
            return fromBufferedImage(img);
        } catch (IllegalArgumentException e) {
            throw new ImageException(name + ": " + e.getMessage());
        }
    }

    public static RasterImage fromBufferedImage(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        if (w <= 0 || h <= 0) throw new IllegalArgumentException("image has no pixels");
        ColorModel cm = img.getColorModel();
        Raster raster = img.getRaster();
        int bands = raster.getNumBands();
        int bits = raster.getSampleModel().getSampleSize(0);
        if (cm instanceof IndexColorModel icm) {
            int[] palette = new int[256];
            for (int i = 0; i < icm.getMapSize() && i < 256; i++) palette[i] = icm.getRGB(i) & 0xFFFFFF;
            int[] idx = raster.getPixels(0, 0, w, h, (int[]) null);
            byte[] samples = new byte[idx.length];
            for (int i = 0; i < idx.length; i++) samples[i] = (byte) idx[i];
            return new RasterImage(PixelMode.P, w, h, samples, palette);
        }
        PixelMode mode = switch (bands) {
            case 1 -> PixelMode.L;
            case 2 -> PixelMode.LA;
            case 3 -> PixelMode.RGB;
            case 4 -> PixelMode.RGBA;
            default -> throw new IllegalArgumentException("unsupported image with " + bands + " channels");
        };
        if (cm.getColorSpace().getType() != java.awt.color.ColorSpace.TYPE_RGB
                && cm.getColorSpace().getType() != java.awt.color.ColorSpace.TYPE_GRAY) {
            throw new IllegalArgumentException("unsupported colour space (CMYK or other); convert it to RGB first");
        }
        byte[] fast = interleavedBytes(img, mode);
        if (fast != null) return new RasterImage(mode, w, h, fast, null);
        int[] px = raster.getPixels(0, 0, w, h, (int[]) null);
        byte[] samples = new byte[px.length];
        // 16-bit PNGs: PIL keeps the most significant byte of RGB(A) samples; grayscale is clipped when
        // converted to RGB, which for 16-bit data means nearly white. We keep the MSB for all (documented).
        int shift = raster.getTransferType() == DataBuffer.TYPE_USHORT || bits == 16 ? 8 : 0;
        for (int i = 0; i < px.length; i++) samples[i] = (byte) (px[i] >>> shift);
        return new RasterImage(mode, w, h, samples, null);
    }

    /** The common 8-bit layouts, copied straight from the data buffer (5x faster than per-pixel access). */
    private static byte[] interleavedBytes(BufferedImage img, PixelMode mode) {
        if (!(img.getRaster().getDataBuffer() instanceof java.awt.image.DataBufferByte db) || db.getNumBanks() != 1
                || img.getRaster().getParent() != null || img.getRaster().getSampleModelTranslateX() != 0
                || img.getRaster().getSampleModelTranslateY() != 0) {
            return null;
        }
        byte[] src = db.getData();
        int n = img.getWidth() * img.getHeight();
        int type = img.getType();
        if (type == BufferedImage.TYPE_BYTE_GRAY && mode == PixelMode.L && src.length == n) return src.clone();
        if (type == BufferedImage.TYPE_3BYTE_BGR && mode == PixelMode.RGB && src.length == 3 * n) {
            byte[] out = new byte[3 * n];
            for (int i = 0; i < 3 * n; i += 3) {
                out[i] = src[i + 2];
                out[i + 1] = src[i + 1];
                out[i + 2] = src[i];
            }
            return out;
        }
        if (type == BufferedImage.TYPE_4BYTE_ABGR && mode == PixelMode.RGBA && src.length == 4 * n) {
            byte[] out = new byte[4 * n];
            for (int i = 0; i < 4 * n; i += 4) {
                out[i] = src[i + 3];
                out[i + 1] = src[i + 2];
                out[i + 2] = src[i + 1];
                out[i + 3] = src[i];
            }
            return out;
        }
        return null;
    }
}
