package dev.clip4j.data;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** The IDX format of (Fashion-)MNIST: big-endian magic, dimensions, then unsigned bytes; optionally gzipped. */
public final class IdxFiles {
    private IdxFiles() {}

    /** One IDX file: its dimensions and raw bytes. */
    public record Idx(int[] dims, byte[] data) {}

    public static Idx read(Path file) {
        try (InputStream raw = Files.newInputStream(file);
             DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(
                     file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw, 1 << 16))) {
            int magic = in.readInt();
            if ((magic >>> 8) != 0x08) throw new DatasetException(file + ": not an unsigned-byte IDX file (magic " + Integer.toHexString(magic) + ")");
            int rank = magic & 0xFF;
            if (rank < 1 || rank > 4) throw new DatasetException(file + ": IDX rank " + rank + " is not supported");
            int[] dims = new int[rank];
            long count = 1;
            for (int i = 0; i < rank; i++) {
                dims[i] = in.readInt();
                if (dims[i] < 0) throw new DatasetException(file + ": negative IDX dimension");
                count *= dims[i];
            }
            if (count > Integer.MAX_VALUE) throw new DatasetException(file + ": IDX file too large");
            byte[] data = new byte[(int) count];
            in.readFully(data);
            return new Idx(dims, data);
        } catch (java.io.EOFException e) {
            throw new DatasetException(file + ": truncated IDX file");
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
