package dev.clip4j.image;

import dev.clip4j.Fixtures;
import dev.clip4j.hostile.ChildJvm;
import dev.clip4j.hostile.LoadProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Images that would take unbounded memory or decode silently wrong: each a one-line error naming the file. */
class HostileImageTest {
    @TempDir
    Path tmp;

    /** A real 25000×25000 PNG (1-bit, all black: ~80 KB) is refused from its header, in a 512 MB child JVM. */
    @Test
    void decompressionBombIsRefusedFromTheHeader() throws Exception {
        Path f = tmp.resolve("bomb.png");
        dev.clip4j.hostile.PngWriter.write(f, 25000, 25000, 1, 0, true);
        assertThat(Files.size(f)).isLessThan(2L << 20);
        ChildJvm.Result r = ChildJvm.run(List.of("-Xmx512m"), LoadProbe.class, "image", f.toString());
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("refused: ").contains("bomb.png").contains("25000x25000 = 625000000 pixels")
                .contains("clip4j.limits.maxImagePixels");
        assertThat(peakRssMb(r.output())).as(r.output()).isLessThan(1024);
    }

    /** A header-only PNG declaring 20000×20000 RGB (a few bytes) takes no pixel memory. */
    @Test
    void headerOnlyPngIsRefusedWithBoundedMemory() throws Exception {
        Path f = tmp.resolve("header-only.png");
        dev.clip4j.hostile.PngWriter.write(f, 20000, 20000, 8, 2, false);
        ChildJvm.Result r = ChildJvm.run(List.of("-Xmx512m"), LoadProbe.class, "image", f.toString());
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("refused: ").contains("header-only.png").contains("over the image limit");
        assertThat(peakRssMb(r.output())).as(r.output()).isLessThan(1024);
    }

    /** Under the pixel limit but over the heap (13000² RGB in 512 MB): a clean error, not an OutOfMemoryError. */
    @Test
    void imageLargerThanTheHeapIsACleanError() throws Exception {
        Path f = tmp.resolve("heap.png");
        dev.clip4j.hostile.PngWriter.write(f, 13000, 13000, 8, 2, false);
        ChildJvm.Result r = ChildJvm.run(List.of("-Xmx512m"), LoadProbe.class, "image", f.toString());
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("refused: ").contains("heap.png");
        assertThat(peakRssMb(r.output())).as(r.output()).isLessThan(1024);
    }

    @Test
    void truncatedJpegIsAnError() throws IOException {
        Path ok = tmp.resolve("whole.jpg"), cut = tmp.resolve("cut.jpg");
        Files.write(ok, dev.clip4j.hostile.HostileCases.jpeg("preprocess/coffee.png"));
        Files.write(cut, dev.clip4j.hostile.HostileCases.truncatedJpeg());
        BufferedImage photo = ImageIO.read(Fixtures.path("preprocess/coffee.png").toFile());
        assertThat(ImageDecoder.read(ok).width()).isEqualTo(photo.getWidth());
        assertThatThrownBy(() -> ImageDecoder.read(cut)).isInstanceOf(ImageException.class)
                .hasMessageContaining("cut.jpg").hasMessageContaining("truncated");
        byte[] cutBytes = Files.readAllBytes(cut);
        assertThatThrownBy(() -> new ClipPreprocessor(224).decodeResizeAndCrop(cutBytes, "cut.jpg")).isInstanceOf(ImageException.class)
                .hasMessageContaining("cut.jpg").hasMessageContaining("truncated");
    }

    @Test
    void truncatedPngIsAnError() throws IOException {
        byte[] whole = Files.readAllBytes(Fixtures.path("preprocess/coffee.png"));
        Path cut = tmp.resolve("cut.png");
        Files.write(cut, Arrays.copyOf(whole, whole.length / 2));
        assertThatThrownBy(() -> ImageDecoder.read(cut)).isInstanceOf(ImageException.class)
                .hasMessageContaining("cut.png").hasMessageContaining("truncated or corrupt");
    }

    @Test
    void pixelLimitIsConfigurable() throws IOException {
        Path f = tmp.resolve("small.png");
        dev.clip4j.hostile.PngWriter.write(f, 64, 64, 8, 0, true);
        String key = "clip4j.limits.maxImagePixels";
        System.setProperty(key, "1000");
        try {
            assertThatThrownBy(() -> ImageDecoder.read(f)).isInstanceOf(ImageException.class)
                    .hasMessageContaining("4096 pixels is over the image limit of 1000");
            // the photo-folder path (OpenCV's rows straight into the resize) checks the same limit before decoding
            byte[] png = Files.readAllBytes(f);
            assertThatThrownBy(() -> new ClipPreprocessor(32).decodeResizeAndCrop(png, "small.png")).isInstanceOf(ImageException.class)
                    .hasMessageContaining("small.png").hasMessageContaining("4096 pixels is over the image limit of 1000");
        } finally {
            System.clearProperty(key);
        }
        assertThat(ImageDecoder.read(f).width()).isEqualTo(64);
    }

    static long peakRssMb(String out) {
        return Long.parseLong(out.replaceAll("(?s).*peak_rss_mb (-?\\d+).*", "$1"));
    }

}
