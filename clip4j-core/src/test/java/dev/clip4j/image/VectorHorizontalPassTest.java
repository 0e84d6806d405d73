package dev.clip4j.image;

import dev.clip4j.hostile.ChildJvm;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Vector API's horizontal and vertical passes give the plain-Java passes' bytes, and a JVM without jdk.incubator.vector (a Java
 * API user who did not add it) runs the plain pass and gets the same pixels. The plain pass itself is held to Pillow
 * by PilResizeWindowTest's oracle and ClipPreprocessorTest's reference photos (through whichever passes the JVM's count
 * of resized images picks: {@link PilResize#PLAIN_FIRST}).
 */
class VectorHorizontalPassTest {
    private static final PixelMode[] MODES = {PixelMode.L, PixelMode.LA, PixelMode.RGB, PixelMode.RGBA};

    @Test
    void theTestJvmRunsTheVectorPass() {
        // surefire's argLine adds the module as the launcher does, so every resize test here covers the vector pass
        assertThat(PilResize.VECTOR_PASS).isTrue();
        // and the vertical one wherever the CPU has 256-bit int vectors (AVX2: every machine seen here)
        assertThat(PilResize.VECTOR_VERTICAL_PASS).isEqualTo(jdk.incubator.vector.IntVector.SPECIES_PREFERRED.vectorBitSize() >= 256);
    }

    @Test
    void aJvmResizesItsFirstImagesWithThePlainPassesAndTheRestWithTheVectorOnes() {
        assertThat(PilResize.vectorPassesFor(1)).isFalse();
        assertThat(PilResize.vectorPassesFor(PilResize.PLAIN_FIRST)).isFalse();
        assertThat(PilResize.vectorPassesFor(PilResize.PLAIN_FIRST + 1)).isEqualTo(PilResize.VECTOR_PASS).isTrue();
        assertThat(PilResize.vectorPassesFor(1_000_000)).isTrue();
    }

    @Test
    void bothPassesGiveTheSameBytes() {
        SplittableRandom rng = new SplittableRandom(11);
        for (int t = 0; t < 400; t++) {
            PixelMode mode = MODES[t % MODES.length];
            // widths from 1 px to a camera's, down by up to 400x (kernels of ~1,600 taps) and up
            int w = t % 10 == 0 ? 1000 + rng.nextInt(5000) : 1 + rng.nextInt(700);
            int outW = t % 3 == 0 ? 1 + rng.nextInt(Math.min(w, 40)) : 1 + rng.nextInt(2 * w + 1);
            if (outW == w) outW++;
            int h = 1 + rng.nextInt(6);
            byte[] px = samples(rng, w * h * mode.bands, t % 7);
            RasterImage img = new RasterImage(mode, w, h, px.clone(), null);
            int cw = 1 + rng.nextInt(outW), left = rng.nextInt(outW - cw + 1);
            int rowFrom = rng.nextInt(h), rows = 1 + rng.nextInt(h - rowFrom);
            String what = mode + " " + w + "x" + h + " -> " + outW + " window " + cw + "+" + left + " rows " + rowFrom + "+" + rows;
            byte[] plain = PilResize.horizontalPass(PilResize.Source.of(img), w, outW, left, cw, rowFrom, rows, false);
            assertThat(PilResize.horizontalPass(PilResize.Source.of(img), w, outW, left, cw, rowFrom, rows, true))
                    .as(what).isEqualTo(plain);
            assertThat(PilResize.horizontalPass(PilResizeWindowTest.rowByRow(img), w, outW, left, cw, rowFrom, rows, true))
                    .as(what + ", row by row").isEqualTo(plain);
            assertThat(img.samples()).as(what + ": the source is not written").isEqualTo(px);
        }
    }

    @Test
    void bothVerticalPassesGiveTheSameBytes() {
        // the vector pass needs 256-bit int vectors; on a CPU without them the plain pass runs and this test is moot
        org.junit.jupiter.api.Assumptions.assumeTrue(PilResize.VECTOR_VERTICAL_PASS, "no 256-bit int vectors here");
        SplittableRandom rng = new SplittableRandom(12);
        for (int t = 0; t < 400; t++) {
            int bands = 1 + t % 4;
            // heights from 1 px to a camera's, down by up to 400x and up; windows of every width (tails of 0-7 samples)
            int h = t % 10 == 0 ? 1000 + rng.nextInt(5000) : 1 + rng.nextInt(700);
            int outH = t % 3 == 0 ? 1 + rng.nextInt(Math.min(h, 40)) : 1 + rng.nextInt(2 * h + 1);
            if (outH == h) outH++;
            int cw = 1 + rng.nextInt(t % 5 == 0 ? 300 : 40), top = rng.nextInt(outH), ch = 1 + rng.nextInt(Math.min(outH - top, 50));
            byte[] src = samples(rng, cw * bands * h, t % 7);
            String what = bands + " bands, " + cw + " wide, " + h + " -> " + outH + " rows " + top + "+" + ch;
            byte[] plain = new byte[cw * bands * ch], vector = new byte[cw * bands * ch];
            PilResize.verticalPass(src, cw, bands, h, outH, top, ch, 0, plain, false);
            PilResize.verticalPass(src, cw, bands, h, outH, top, ch, 0, vector, true);
            assertThat(vector).as(what).isEqualTo(plain);
        }
    }

    @Test
    void withoutTheModuleTheJvmRunsThePlainPassToTheSamePixels() throws Exception {
        ChildJvm.Result child = ChildJvm.run(List.of("-Xmx256m"), VectorPassProbe.class);
        assertThat(child.exit()).as(child.output()).isZero();
        assertThat(child.output()).doesNotContain("incubator");
        assertThat(child.output().strip()).isEqualTo("vector pass false false, pixels " + VectorPassProbe.pixels());
    }

    @Test
    void withoutC2TheJvmRunsThePlainPass() throws Exception {
        // C1 alone does not turn the Vector API into vector instructions (26x slower than the plain pass)
        ChildJvm.Result child = ChildJvm.run(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "--add-modules=jdk.incubator.vector"),
                VectorPassProbe.class);
        assertThat(child.exit()).as(child.output()).isZero();
        assertThat(child.output()).endsWith("vector pass false false, pixels " + VectorPassProbe.pixels() + System.lineSeparator());
    }

    /** Random samples, or (kinds 0 and 1) all black or all white, where the clamps of the sums are reached. */
    private static byte[] samples(SplittableRandom rng, int n, int kind) {
        byte[] px = new byte[n];
        if (kind == 0) return px;
        if (kind == 1) {
            Arrays.fill(px, (byte) 255);
            return px;
        }
        for (int i = 0; i < n; i++) px[i] = (byte) rng.nextInt(256);
        return px;
    }
}
