package dev.clip4j.train;

import dev.clip4j.model.ClipConfig;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a child JVM with a fixed, pre-touched heap by {@link BindingPitfallsTest}: trains a tiny CLIP for N steps,
 * one memory scope per step, and prints the process RSS (kB) after step 200 and after the last step.
 */
public final class MemorySoak {
    static long rssKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", ""));
        }
        throw new IllegalStateException("no VmRSS");
    }

    public static void main(String[] args) throws Exception {
        int steps = Integer.parseInt(args[0]);
        boolean scoped = !(args.length > 1 && args[1].equals("--no-scope")); // to show what the scope prevents
        Torch.manualSeed(7);
        ClipConfig tiny = new ClipConfig("test-tiny", 32, 32, new int[] {2}, 64, 8, 1, 16, 512, 64, 1, 2);
        ClipModel model = ClipModel.create(tiny).train(true);
        AdamW opt = new AdamW(1e-4, 0.9, 0.98, 1e-6);
        model.parameters().forEach((n, p) -> opt.add(n, p, 0.2));
        Tensor images = Tensors.randn(8, 3, 32, 32);
        long[] ids = new long[8 * 16];
        for (int i = 0; i < 8; i++) {
            ids[i * 16] = 509;
            for (int j = 1; j < 6; j++) ids[i * 16 + j] = 1 + (i * 7 + j * 13) % 500;
            ids[i * 16 + 6] = 511;
        }
        Tensor text = Tensors.fromLongs(ids, 8, 16);
        for (int step = 1; step <= steps; step++) {
            Scope scope = scoped ? Scope.open() : null;
            opt.zeroGrad();
            Tensor loss = ContrastiveLoss.of(model.forward(images, text));
            loss.backward();
            opt.step();
            if (scope != null) scope.close();
            if (step == 200) System.out.println("rss200 " + rssKb());
        }
        System.out.println("rssEnd " + rssKb());
    }
}
