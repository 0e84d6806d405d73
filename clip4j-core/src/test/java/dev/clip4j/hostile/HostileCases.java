package dev.clip4j.hostile;

import dev.clip4j.Fixtures;
import dev.clip4j.checkpoint.Safetensors;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes every crafted input of docs/SECURITY.md into one directory, for {@code bench/hostile_cases.sh} to run
 * through two builds of the CLI (before and after): {@code java -cp <test classpath> dev.clip4j.hostile.HostileCases DIR}.
 */
public final class HostileCases {
    public static void main(String[] args) throws IOException {
        Path dir = Files.createDirectories(Path.of(args[0]));
        CraftedTorchScript.write(Fixtures.path("vit/model_jit.pt"), dir.resolve("evil-torchscript.pt"), dir.resolve("victim.sh"));
        instPickle(dir.resolve("inst.pt"));
        storageLargerThanFile(dir.resolve("storage-larger-than-file.pt"));
        zipBomb(dir.resolve("zip-bomb.pt"));
        viewOutsideStorage(dir.resolve("view-outside-storage.pt"));
        nanWeight(dir.resolve("nan.safetensors"));
        i8Weight(dir.resolve("i8.safetensors"));
        overlappingSafetensors(dir.resolve("overlap.safetensors"));
        duplicateSafetensorsKey(dir.resolve("duplicate-key.safetensors"));
        PngWriter.write(dir.resolve("bomb-25000x25000.png"), 25000, 25000, 1, 0, true);
        PngWriter.write(dir.resolve("header-only-20000x20000.png"), 20000, 20000, 8, 2, false);
        Files.write(dir.resolve("truncated.jpg"), truncatedJpeg());
        Path img = Fixtures.path("preprocess/chelsea.png");
        Files.write(dir.resolve("bom.tsv"), ("\uFEFFimage\tcaption\n" + img + "\ta cat\n" + img + "\tanother cat\n")
                .getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("good.tsv"), (img + "\ta cat\n" + img + "\tanother cat\n").getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("latin1.tsv"), (img + "\ta cat\n" + img + "\tun caf\u00e9\n").getBytes(StandardCharsets.ISO_8859_1));
        System.out.println("wrote the cases into " + dir);
    }

    /** A state dict {@code {'x': os.system('echo pwned')}} through INST (razorvine would build an object). */
    public static void instPickle(Path f) throws IOException {
        PickleWriter.torchSaveZip(f, new PickleWriter().op('}').str("x").op('(').str("echo pwned").inst("os", "system").op('s').end(),
                Map.of(), false);
    }

    /** 400M floats (1.6 GB) declared, 4 bytes stored. */
    public static void storageLargerThanFile(Path f) throws IOException {
        PickleWriter.torchSaveZip(f, new PickleWriter().op('}').str("w")
                .floatTensor("0", 400_000_000L, 0, new long[] {400_000_000L}, new long[] {1}).op('s').end(), Map.of("0", new byte[4]), false);
    }

    /** A 300 MB record of zeros, deflated to ~300 KB. */
    public static void zipBomb(Path f) throws IOException {
        long numel = 75_000_000L;
        PickleWriter.torchSaveZip(f, new PickleWriter().op('}').str("w").floatTensor("0", numel, 0, new long[] {numel}, new long[] {1})
                .op('s').end(), Map.of("0", new byte[(int) (numel * 4)]), true);
    }

    /** 4 floats stored; a [4] view with stride 1000 would read far past them. */
    public static void viewOutsideStorage(Path f) throws IOException {
        PickleWriter.torchSaveZip(f, new PickleWriter().op('}').str("w").floatTensor("0", 4, 0, new long[] {4}, new long[] {1000})
                .op('s').end(), Map.of("0", new byte[16]), false);
    }

    /** The ViT fixture with one NaN in {@code visual.conv1.weight}. */
    public static void nanWeight(Path f) throws IOException {
        Map<String, Tensor> sd = new LinkedHashMap<>(Safetensors.read(Fixtures.path("vit/weights.safetensors")));
        Tensor w = sd.get("visual.conv1.weight").clone();
        w.view(-1).narrow(0, 5, 1).fill_(new org.bytedeco.pytorch.Scalar(Double.NaN));
        sd.put("visual.conv1.weight", w);
        Safetensors.write(f, sd, Map.of());
    }

    /** The ViT fixture with {@code ln_final.weight} stored as I8. */
    public static void i8Weight(Path f) throws IOException {
        Map<String, Tensor> sd = new LinkedHashMap<>(Safetensors.read(Fixtures.path("vit/weights.safetensors")));
        sd.put("ln_final.weight", Tensors.to(sd.get("ln_final.weight"), DType.I8));
        Safetensors.write(f, sd, Map.of());
    }

    /** Tensors 'a' and 'b' sharing bytes 4..8. */
    public static void overlappingSafetensors(Path f) throws IOException {
        rawSafetensors(f, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
    }

    /** A header naming tensor 'a' twice. */
    public static void duplicateSafetensorsKey(Path f) throws IOException {
        rawSafetensors(f, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
    }

    /** The first half of a JPEG of a reference photo. */
    public static byte[] truncatedJpeg() throws IOException {
        byte[] whole = jpeg("preprocess/coffee.png");
        return Arrays.copyOf(whole, whole.length / 2);
    }

    /** A reference photo encoded as a whole JPEG by ImageIO. */
    public static byte[] jpeg(String fixture) throws IOException {
        BufferedImage photo = ImageIO.read(Fixtures.path(fixture).toFile());
        BufferedImage rgb = new BufferedImage(photo.getWidth(), photo.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
        rgb.getGraphics().drawImage(photo, 0, 0, null);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(rgb, "jpeg", out);
        return out.toByteArray();
    }

    /** A safetensors file with a hand-written header and {@code dataBytes} zero bytes of data. */
    public static void rawSafetensors(Path f, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Files.write(f, b.array());
    }
}
