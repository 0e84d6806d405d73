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
        PickleWriter.torchSaveZip(dir.resolve("inst.pt"),
                new PickleWriter().op('}').str("x").op('(').str("echo pwned").inst("os", "system").op('s').end(), Map.of(), false);
        PickleWriter.torchSaveZip(dir.resolve("storage-larger-than-file.pt"), new PickleWriter().op('}').str("w")
                .floatTensor("0", 400_000_000L, 0, new long[] {400_000_000L}, new long[] {1}).op('s').end(), Map.of("0", new byte[4]), false);
        long numel = 75_000_000L;
        PickleWriter.torchSaveZip(dir.resolve("zip-bomb.pt"), new PickleWriter().op('}').str("w")
                .floatTensor("0", numel, 0, new long[] {numel}, new long[] {1}).op('s').end(), Map.of("0", new byte[(int) (numel * 4)]), true);
        PickleWriter.torchSaveZip(dir.resolve("view-outside-storage.pt"), new PickleWriter().op('}').str("w")
                .floatTensor("0", 4, 0, new long[] {4}, new long[] {1000}).op('s').end(), Map.of("0", new byte[16]), false);
        Map<String, Tensor> sd = new LinkedHashMap<>(Safetensors.read(Fixtures.path("vit/weights.safetensors")));
        Tensor w = sd.get("visual.conv1.weight").clone();
        w.view(-1).narrow(0, 5, 1).fill_(new org.bytedeco.pytorch.Scalar(Double.NaN));
        Map<String, Tensor> nan = new LinkedHashMap<>(sd);
        nan.put("visual.conv1.weight", w);
        Safetensors.write(dir.resolve("nan.safetensors"), nan, Map.of());
        Map<String, Tensor> i8 = new LinkedHashMap<>(sd);
        i8.put("ln_final.weight", Tensors.to(sd.get("ln_final.weight"), DType.I8));
        Safetensors.write(dir.resolve("i8.safetensors"), i8, Map.of());
        rawSafetensors(dir.resolve("overlap.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        rawSafetensors(dir.resolve("duplicate-key.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
        PngWriter.write(dir.resolve("bomb-25000x25000.png"), 25000, 25000, 1, 0, true);
        PngWriter.write(dir.resolve("header-only-20000x20000.png"), 20000, 20000, 8, 2, false);
        BufferedImage photo = ImageIO.read(Fixtures.path("preprocess/coffee.png").toFile());
        BufferedImage rgb = new BufferedImage(photo.getWidth(), photo.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
        rgb.getGraphics().drawImage(photo, 0, 0, null);
        ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
        ImageIO.write(rgb, "jpeg", jpeg);
        Files.write(dir.resolve("truncated.jpg"), Arrays.copyOf(jpeg.toByteArray(), jpeg.size() / 2));
        Path img = Fixtures.path("preprocess/chelsea.png");
        Files.write(dir.resolve("bom.tsv"), ("\uFEFFimage\tcaption\n" + img + "\ta cat\n" + img + "\tanother cat\n")
                .getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("good.tsv"), (img + "\ta cat\n" + img + "\tanother cat\n").getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("latin1.tsv"), (img + "\ta cat\n" + img + "\tun caf\u00e9\n").getBytes(StandardCharsets.ISO_8859_1));
        System.out.println("wrote the cases into " + dir);
    }

    /** A safetensors file with a hand-written header and {@code dataBytes} zero bytes of data. */
    public static void rawSafetensors(Path f, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Files.write(f, b.array());
    }
}
