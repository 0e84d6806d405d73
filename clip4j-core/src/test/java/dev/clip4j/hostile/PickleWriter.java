package dev.clip4j.hostile;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writes pickle opcodes by hand, for crafted checkpoints (the tests make every hostile file themselves). */
public final class PickleWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public PickleWriter() {
        out.write(0x80);
        out.write(2);
    }

    public PickleWriter op(char opcode) {
        out.write(opcode);
        return this;
    }

    public PickleWriter op(int opcode) {
        out.write(opcode);
        return this;
    }

    public PickleWriter str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write('X');
        out.writeBytes(le4(b.length));
        out.writeBytes(b);
        return this;
    }

    /** BINUNICODE with a length field that claims {@code claimed} bytes, followed by only a few. */
    public PickleWriter lyingStr(int claimed) {
        out.write('X');
        out.writeBytes(le4(claimed));
        out.writeBytes("abc".getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    public PickleWriter global(String module, String name) {
        out.write('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    public PickleWriter inst(String module, String name) {
        out.write('i');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    public PickleWriter integer(long v) {
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            out.write('J');
            out.writeBytes(le4((int) v));
        } else {
            out.write(0x8a); // LONG1
            out.write(8);
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }
        return this;
    }

    public PickleWriter ints(long... values) {
        op('(');
        for (long v : values) integer(v);
        return op('t');
    }

    /** {@code _rebuild_tensor_v2(storage(key, FloatStorage, numel), offset, size, stride, False, OrderedDict())}. */
    public PickleWriter floatTensor(String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        op('(');
        op('(').str("storage").global("torch", "FloatStorage").str(key).str("cpu").integer(numel).op('t');
        op('Q'); // BINPERSID
        integer(offset).ints(size).ints(stride);
        op(0x89); // NEWFALSE
        global("collections", "OrderedDict").op(')').op('R');
        op('t');
        return op('R');
    }

    public byte[] bytes() {
        return out.toByteArray();
    }

    public byte[] end() {
        out.write('.');
        return out.toByteArray();
    }

    private static byte[] le4(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    /** A torch.save zip: {@code archive/data.pkl}, {@code archive/version} and the records, stored or deflated. */
    public static void torchSaveZip(Path file, byte[] pickle, Map<String, byte[]> records, boolean deflateRecords) throws IOException {
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
            zip.setLevel(Deflater.BEST_COMPRESSION);
            stored(zip, "archive/data.pkl", pickle);
            stored(zip, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
            for (Map.Entry<String, byte[]> r : records.entrySet()) {
                if (deflateRecords) {
                    zip.putNextEntry(new ZipEntry("archive/data/" + r.getKey()));
                    zip.write(r.getValue());
                    zip.closeEntry();
                } else {
                    stored(zip, "archive/data/" + r.getKey(), r.getValue());
                }
            }
        }
    }

    /** One uncompressed zip entry (what PyTorch writes for its records). */
    public static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry z = new ZipEntry(name);
        z.setMethod(ZipEntry.STORED);
        z.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        z.setCrc(crc.getValue());
        zip.putNextEntry(z);
        zip.write(data);
        zip.closeEntry();
    }
}
