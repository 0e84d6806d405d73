package dev.clip4j.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * OpenCV's decoders against PIL: JPEGs encoded by PIL 9.4 (4:2:0, 4:4:4, 4:2:2, progressive, grey, odd sizes, an
 * EXIF orientation PIL does not apply; bench/make_jpeg_fixtures.py) decode to PIL's own pixels bit for bit, through
 * OpenCV's path itself; the shared reference photos (PNG) too; and what OpenCV would open in another mode than PIL
 * stays on ImageIO's path.
 */
class NativeDecoderTest {
    static byte[] resource(String name) throws IOException {
        try (InputStream in = NativeDecoderTest.class.getResourceAsStream("/jpeg/" + name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    void jpegsDecodeToPilsPixelsExactly() throws IOException {
        assertThat(OpenCvDecoder.available()).as("OpenCV's natives load on linux-x86_64").isTrue();
        JsonNode index = new ObjectMapper().readTree(resource("index.json"));
        List<String> imageIoDiffers = new ArrayList<>();
        for (JsonNode img : index.get("images")) {
            String name = img.get("name").asText();
            byte[] jpeg = resource(img.get("jpeg").asText());
            RasterImage pil = ImageDecoder.decodeWithImageIO(resource(img.get("pil_decoded").asText()), name + " (PIL)");
            OpenCvDecoder.Header header = OpenCvDecoder.supported(jpeg);
            assertThat(header).as(name).isNotNull();
            RasterImage cv = OpenCvDecoder.decode(jpeg, header);
            assertThat(cv).as(name + " through OpenCV").isNotNull();
            assertThat(cv.mode().name()).as(name).isEqualTo(img.get("pil_mode").asText());
            assertThat(new int[] {cv.width(), cv.height()}).as(name)
                    .containsExactly(img.get("size_wh").get(0).asInt(), img.get("size_wh").get(1).asInt());
            assertThat(Arrays.equals(cv.samples(), pil.samples())).as(name + ": OpenCV's pixels are PIL's").isTrue();
            assertThat(ImageDecoder.decode(jpeg, name).samples()).as(name + " through ImageDecoder").isEqualTo(pil.samples());
            if (!Arrays.equals(ImageDecoder.decodeWithImageIO(jpeg, name).samples(), pil.samples())) imageIoDiffers.add(name);
        }
        // not an assertion on ImageIO: which files it gets ±1 wrong depends on the image; printed for the record
        System.out.println("ImageIO's JPEG decoder differs from PIL on " + imageIoDiffers);
    }

    /**
     * OpenCV's rows read out of native memory straight into the resize (what a photo folder takes) give the pixels of
     * the whole decode then the resize, for every JPEG fixture, a grey/RGBA PNG and a JPEG over the whole-read size, at a
     * downscale and an upscale; small images are copied out whole on the default path, with the same pixels.
     */
    @Test
    void decodingStraightIntoTheResizeGivesTheSamePixels() throws IOException {
        JsonNode index = new ObjectMapper().readTree(resource("index.json"));
        List<byte[]> files = new ArrayList<>();
        for (JsonNode img : index.get("images")) files.add(resource(img.get("jpeg").asText()));
        files.add(resource("camera_gray.pil.png"));
        files.add(Files.readAllBytes(dev.clip4j.Fixtures.path("preprocess/chelsea_rgba.png")));
        // over the whole-read size, so that the default path reads it by rows
        java.awt.image.BufferedImage large = new java.awt.image.BufferedImage(1000, 700, java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 700; y++) for (int x = 0; x < 1000; x++) large.setRGB(x, y, (x * 7 ^ y * 13) & 0xFFFFFF);
        java.io.ByteArrayOutputStream jpg = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(large, "jpeg", jpg);
        files.add(jpg.toByteArray());
        for (byte[] file : files) {
            OpenCvDecoder.Header header = OpenCvDecoder.supported(file);
            assertThat(header).isNotNull();
            RasterImage whole = ImageDecoder.decode(file, "f");
            Boolean fromNativeRows = OpenCvDecoder.decodeThen(file, header, 0, src -> src.image == null);
            assertThat(fromNativeRows).as(header + " is read a row at a time out of OpenCV's memory").isTrue();
            boolean small = (long) header.width() * header.height() * header.mode().bands <= OpenCvDecoder.WHOLE_READ_BYTES;
            Boolean readWhole = OpenCvDecoder.decodeThen(file, header, src -> src.image != null);
            assertThat(readWhole).as(header + ": a small image is copied out whole, a large one read by rows").isEqualTo(small);
            for (int size : new int[] {64, 224, 500}) {
                ClipPreprocessor pre = new ClipPreprocessor(size);
                ClipPreprocessor.Resized r = pre.decodeResizeAndCrop(file, "f");
                assertThat(new int[] {r.width(), r.height()}).containsExactly(whole.width(), whole.height());
                assertThat(r.image().mode()).isEqualTo(whole.mode());
                byte[] expected = pre.resizeAndCrop(whole).samples();
                assertThat(r.image().samples()).as(header + " at " + size).isEqualTo(expected);
                assertThat(OpenCvDecoder.decodeThen(file, header, 0, pre::resizeAndCrop).samples()).as(header + " by rows at " + size)
                        .isEqualTo(expected);
            }
        }
    }

    @Test
    void referencePngsDecodeAsBeforeThroughOpenCv() throws IOException {
        Path photos = dev.clip4j.Fixtures.path("preprocess/astronaut.png").getParent();
        int taken = 0;
        try (var files = Files.list(photos)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".png")).sorted().toList()) {
                byte[] png = Files.readAllBytes(f);
                RasterImage viaImageIo = ImageDecoder.decodeWithImageIO(png, f.toString());
                OpenCvDecoder.Header header = OpenCvDecoder.supported(png);
                if (header == null) continue;
                RasterImage cv = OpenCvDecoder.decode(png, header);
                assertThat(cv).as(f.toString()).isNotNull();
                assertThat(cv.mode()).as(f.toString()).isEqualTo(viaImageIo.mode());
                assertThat(cv.samples()).as(f.toString()).isEqualTo(viaImageIo.samples());
                taken++;
            }
        }
        assertThat(taken).as("reference PNGs OpenCV takes").isGreaterThanOrEqualTo(5);
    }

    @Test
    void filesWhosePilModeOpenCvWouldChangeKeepImageIosPath() throws IOException {
        byte[] jpeg = resource("astronaut_q90_420.jpg");
        assertThat(OpenCvDecoder.supported(Arrays.copyOf(jpeg, jpeg.length - 100))).as("no EOI: truncated").isNull();
        byte[] trailing = Arrays.copyOf(jpeg, jpeg.length + 3);
        assertThat(OpenCvDecoder.supported(trailing)).as("data after EOI").isNull();
        assertThat(ImageDecoder.decode(trailing, "trailing.jpg").samples()).as("still decodes, through ImageIO")
                .hasSize(192 * 192 * 3);

        java.awt.image.BufferedImage grey = new java.awt.image.BufferedImage(3, 2, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        byte[] plain = png(grey);
        assertThat(OpenCvDecoder.supported(plain)).isEqualTo(new OpenCvDecoder.Header(3, 2, PixelMode.L, false));
        java.awt.image.BufferedImage palette = new java.awt.image.BufferedImage(3, 2, java.awt.image.BufferedImage.TYPE_BYTE_INDEXED);
        assertThat(OpenCvDecoder.supported(png(palette))).as("palette PNG (PIL mode P)").isNull();
        java.awt.image.BufferedImage deep = new java.awt.image.BufferedImage(3, 2, java.awt.image.BufferedImage.TYPE_USHORT_GRAY);
        assertThat(OpenCvDecoder.supported(png(deep))).as("16-bit PNG").isNull();
        // PIL opens a grey PNG with tRNS in mode L (the transparency only in its info); libpng would add alpha
        java.awt.image.BufferedImage ramp = new java.awt.image.BufferedImage(3, 2, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        ramp.getRaster().setPixels(0, 0, 3, 2, new int[] {0, 50, 100, 150, 200, 250});
        byte[] withTrns = insertChunk(png(ramp), "tRNS", new byte[] {0, 0});
        assertThat(OpenCvDecoder.supported(withTrns)).as("tRNS is cut").extracting(OpenCvDecoder.Header::mode).isEqualTo(PixelMode.L);
        RasterImage trns = ImageDecoder.decode(withTrns, "trns.png");
        assertThat(trns.mode()).isEqualTo(PixelMode.L);
        assertThat(trns.samples()).containsExactly(0, 50, 100, (byte) 150, (byte) 200, (byte) 250);
        assertThat(OpenCvDecoder.supported(Arrays.copyOf(plain, plain.length - 12))).as("no IEND").isNull();
    }

    /** Mutated JPEGs and PNGs (bytes flipped, keeping their ends) decode or are an ImageException: never a crash. */
    @Test
    void mutatedFilesNeverCrashTheJvm() throws IOException {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(7);
        byte[][] seeds = {resource("astronaut_odd_q60.jpg"), resource("rocket_progressive.jpg"), resource("camera_gray.pil.png")};
        int decoded = 0, refused = 0;
        for (int i = 0; i < 300; i++) {
            byte[] b = seeds[i % seeds.length].clone();
            for (int k = 1 + rng.nextInt(8); k > 0; k--) b[2 + rng.nextInt(b.length - 14)] = (byte) rng.nextInt(256);
            RasterImage img;
            try {
                img = ImageDecoder.decode(b, "mutated-" + i);
                assertThat(img.samples()).hasSize(img.width() * img.height() * img.mode().bands);
                decoded++;
            } catch (ImageException e) {
                img = null;
                refused++;
            }
            // the photo-folder path (rows read out of OpenCV's memory) decodes the same files to the same pixels, and
            // refuses the same ones
            ClipPreprocessor pre = new ClipPreprocessor(32);
            OpenCvDecoder.Header header = OpenCvDecoder.supported(b);
            RasterImage byRows = header == null ? null : OpenCvDecoder.decodeThen(b, header, 0, pre::resizeAndCrop);
            if (img != null) {
                assertThat(pre.decodeResizeAndCrop(b, "mutated-" + i).image().samples()).as("mutated-" + i)
                        .isEqualTo(pre.resizeAndCrop(img).samples());
                // read by rows (these files are small enough to be copied out whole on the default path)
                if (byRows != null) assertThat(byRows.samples()).as("mutated-" + i + " by rows").isEqualTo(pre.resizeAndCrop(img).samples());
            } else {
                assertThat(byRows).as("mutated-" + i + " by rows").isNull();
                String name = "mutated-" + i;
                assertThatThrownBy(() -> pre.decodeResizeAndCrop(b, name)).isInstanceOf(ImageException.class);
            }
        }
        assertThat(decoded + refused).isEqualTo(300);
    }

    private static byte[] png(java.awt.image.BufferedImage img) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    /** A chunk inserted right after IHDR (CRC included). */
    private static byte[] insertChunk(byte[] png, String type, byte[] data) {
        int at = 8 + 12 + 13;
        java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocate(12 + data.length);
        chunk.putInt(data.length).put(type.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put(data);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(chunk.array(), 4, 4 + data.length);
        chunk.putInt((int) crc.getValue());
        byte[] out = new byte[png.length + chunk.capacity()];
        System.arraycopy(png, 0, out, 0, at);
        System.arraycopy(chunk.array(), 0, out, at, chunk.capacity());
        System.arraycopy(png, at, out, at + chunk.capacity(), png.length - at);
        return out;
    }
}
