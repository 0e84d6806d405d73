package dev.clip4j;

import dev.clip4j.checkpoint.Safetensors;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** The reference fixtures copied into the repository (testdata/reference, from ../shared/fixtures). */
public final class Fixtures {
    private Fixtures() {}

    public static Path path(String relative) {
        for (Path base : new Path[] {Path.of("testdata/reference"), Path.of("../testdata/reference")}) {
            Path p = base.resolve(relative);
            if (Files.exists(p)) return p.toAbsolutePath();
        }
        throw new IllegalStateException("fixture not found: testdata/reference/" + relative);
    }

    public static Map<String, Tensor> tensors(String relative) {
        return Safetensors.read(path(relative));
    }
}
