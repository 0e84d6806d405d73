package dev.clip4j.hostile;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

/** Writes PNGs by hand: huge all-zero images that compress to kilobytes, or a header with no pixel data at all. */
public final class PngWriter {
    private PngWriter() {}

    /** A PNG of zeros: {@code colorType} 0 = gray, 2 = RGB; without {@code pixels}, only the header (no IDAT). */
    public static void write(Path f, int w, int h, int bitDepth, int colorType, boolean pixels) throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(file);
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(ihdr);
        d.writeInt(w);
        d.writeInt(h);
        d.write(new byte[] {(byte) bitDepth, (byte) colorType, 0, 0, 0});
        chunk(out, "IHDR", ihdr.toByteArray());
        if (pixels) {
            int channels = colorType == 2 ? 3 : 1;
            int rowBytes = 1 + (int) (((long) w * channels * bitDepth + 7) / 8);
            ByteArrayOutputStream idat = new ByteArrayOutputStream();
            try (DeflaterOutputStream z = new DeflaterOutputStream(idat, new Deflater(Deflater.BEST_COMPRESSION), 1 << 16)) {
                byte[] row = new byte[rowBytes];
                for (int y = 0; y < h; y++) z.write(row);
            }
            chunk(out, "IDAT", idat.toByteArray());
        }
        chunk(out, "IEND", new byte[0]);
        Files.write(f, file.toByteArray());
    }

    private static void chunk(DataOutputStream out, String type, byte[] data) throws IOException {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeInt(data.length);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeInt((int) crc.getValue());
    }
}
