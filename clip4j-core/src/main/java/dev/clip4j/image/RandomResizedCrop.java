package dev.clip4j.image;

import java.util.SplittableRandom;

/** torchvision's {@code RandomResizedCrop(scale=(0.9, 1), ratio=(3/4, 4/3))} with PIL's bicubic resize: training's augmentation. */
public final class RandomResizedCrop implements ImageTransform {
    private final int size;

    public RandomResizedCrop(int size) {
        this.size = size;
    }

    @Override
    public RasterImage apply(RasterImage img, SplittableRandom rng) {
        int w = img.width(), h = img.height();
        double area = (double) w * h;
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (0.9 + 0.1 * rng.nextDouble());
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
