package dev.clip4j.image;

import java.util.SplittableRandom;

/**
 * torchvision's {@code RandomResizedCrop(scale=(minScale, 1), ratio=(3/4, 4/3))} with PIL's bicubic resize, optionally
 * followed by {@code RandomHorizontalFlip()}: training's augmentation is (0.9, no flip); Tip-Adapter's cache views are
 * (0.5, flip).
 */
public final class RandomResizedCrop implements ImageTransform {
    private final int size;
    private final double minScale, span;
    private final boolean flip;

    public RandomResizedCrop(int size) {
        this(size, 0.9, 0.1, false); // the span written as 0.1, not 1 - 0.9: training's crops stay as they were
    }

    public RandomResizedCrop(int size, double minScale, boolean horizontalFlip) {
        this(size, minScale, 1 - minScale, horizontalFlip);
    }

    private RandomResizedCrop(int size, double minScale, double span, boolean horizontalFlip) {
        if (!(minScale > 0 && minScale <= 1)) throw new IllegalArgumentException("minScale must be in (0, 1], got " + minScale);
        this.size = size;
        this.minScale = minScale;
        this.span = span;
        this.flip = horizontalFlip;
    }

    @Override
    public RasterImage apply(RasterImage img, SplittableRandom rng) {
        RasterImage out = crop(img, rng);
        // drawn after the crop, so runs without the flip see the same crops
        return flip && rng.nextDouble() < 0.5 ? mirrored(out) : out;
    }

    private static RasterImage mirrored(RasterImage img) {
        int w = img.width(), h = img.height(), bands = img.mode().bands;
        byte[] src = img.samples(), out = new byte[src.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                System.arraycopy(src, (y * w + x) * bands, out, (y * w + (w - 1 - x)) * bands, bands);
            }
        }
        return new RasterImage(img.mode(), w, h, out, img.palette());
    }

    private RasterImage crop(RasterImage img, SplittableRandom rng) {
        int w = img.width(), h = img.height();
        double area = (double) w * h;
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (minScale + span * rng.nextDouble());
            double logRatio = Math.log(3.0 / 4) + (Math.log(4.0 / 3) - Math.log(3.0 / 4)) * rng.nextDouble();
            double ratio = Math.exp(logRatio);
            int cw = (int) Math.round(Math.sqrt(target * ratio));
            int ch = (int) Math.round(Math.sqrt(target / ratio));
            if (cw > 0 && ch > 0 && cw <= w && ch <= h) {
                int top = rng.nextInt(h - ch + 1), left = rng.nextInt(w - cw + 1);
                return PilResize.bicubic(ClipPreprocessor.crop(img, left, top, cw, ch), size, size);
            }
        }
        int s = Math.min(w, h);
        return PilResize.bicubic(ClipPreprocessor.crop(img, (w - s) / 2, (h - s) / 2, s, s), size, size);
    }
}
