package dev.clip4j.image;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads PNG, JPEG, BMP and GIF files into the PIL mode PIL would open them in, taking raw samples (never
 * ImageIO's colour-converted RGB, which would, for example, gamma-map grayscale).
 */
public final class ImageDecoder {
    private ImageDecoder() {}

    public static RasterImage read(Path file) {
        BufferedImage img;
        try (InputStream in = Files.newInputStream(file)) {
            img = ImageIO.read(in);
        } catch (NoSuchFileException e) {
            throw new ImageException(file + ": no such file");
        } catch (IOException | RuntimeException e) {
            throw new ImageException(file + ": cannot decode image: " + e.getMessage());
        }
        if (img == null) throw new ImageException(file + ": not an image in a supported format (PNG, JPEG, BMP, GIF)");
        try {
            return fromBufferedImage(img);
        } catch (IllegalArgumentException e) {
            throw new ImageException(file + ": " + e.getMessage());
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
        int[] px = raster.getPixels(0, 0, w, h, (int[]) null);
        byte[] samples = new byte[px.length];
        // 16-bit PNGs: PIL keeps the most significant byte of RGB(A) samples; grayscale is clipped when
        // converted to RGB, which for 16-bit data means nearly white. We keep the MSB for all (documented).
        int shift = raster.getTransferType() == DataBuffer.TYPE_USHORT || bits == 16 ? 8 : 0;
        for (int i = 0; i < px.length; i++) samples[i] = (byte) (px[i] >>> shift);
        return new RasterImage(mode, w, h, samples, null);
    }
}
