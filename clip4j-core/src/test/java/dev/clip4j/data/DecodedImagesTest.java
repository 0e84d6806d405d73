package dev.clip4j.data;

import dev.clip4j.image.RasterImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DecodedImagesTest {
    @TempDir
    Path tmp;

    private Path png(String name, int rgb) throws Exception {
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) img.setRGB(x, y, rgb + x);
        Path p = tmp.resolve(name);
        ImageIO.write(img, "png", p.toFile());
        return p;
    }

    @Test
    void keepsDecodedImagesUpToTheBudgetAndDecodesTheRestEachTime() throws Exception {
        DecodedImages images = new DecodedImages(List.of(png("a.png", 0x102030), png("b.png", 0x405060)), 8 * 8 * 3);
        RasterImage a = images.get(0);
        assertThat(images.get(0)).isSameAs(a);              // within the budget: kept
        RasterImage b = images.get(1);
        RasterImage again = images.get(1);
        assertThat(again).isNotSameAs(b);                     // over it: decoded again...
        assertThat(again.samples()).isEqualTo(b.samples());   // ...to the same pixels
        assertThat(a.sample(1, 0, 0)).isEqualTo(0x10);
        assertThat(b.sample(1, 0, 2)).isEqualTo(0x61);
    }
}
