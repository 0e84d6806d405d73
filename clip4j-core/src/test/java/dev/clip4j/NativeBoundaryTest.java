package dev.clip4j;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The native boundary (docs/BINDINGS.md): only {@code dev.clip4j.torch} touches the JavaCPP bindings. Elsewhere in
 * the core the {@code Tensor} type itself is the one name allowed (no {@code global.torch}, no {@code *Optional},
 * no {@code Scalar}, no {@code PointerScope}); the CLI uses none at all.
 */
class NativeBoundaryTest {
    private static final Pattern BINDING = Pattern.compile("org\\.bytedeco\\.[\\w.]+");

    @Test
    void onlyTheTorchPackageUsesTheBindings() throws IOException {
        Path core = Path.of("src/main/java/dev/clip4j"), cli = Path.of("../clip4j-cli/src/main/java");
        assertThat(core).isDirectory();
        assertThat(cli).isDirectory();
        List<String> violations = new ArrayList<>();
        for (Path f : javaFiles(core)) {
            if (f.startsWith(core.resolve("torch"))) continue;
            for (String use : bindingNames(f)) {
                if (!use.equals("org.bytedeco.pytorch.Tensor")) violations.add(f + ": " + use);
            }
        }
        for (Path f : javaFiles(cli)) {
            for (String use : bindingNames(f)) violations.add(f + ": " + use + " (the CLI goes through the core)");
        }
        assertThat(violations).isEmpty();
    }

    /** The check itself sees a violation (so it cannot pass by looking at nothing). */
    @Test
    void theCheckFindsBindingNames() {
        assertThat(bindingNames("import org.bytedeco.pytorch.Scalar;\nx = org.bytedeco.pytorch.global.torch.ones(1);"))
                .containsExactly("org.bytedeco.pytorch.Scalar", "org.bytedeco.pytorch.global.torch.ones");
    }

    private static List<Path> javaFiles(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.toString().endsWith(".java")).toList();
        }
    }

    private static List<String> bindingNames(Path f) throws IOException {
        return bindingNames(Files.readString(f));
    }

    private static List<String> bindingNames(String source) {
        List<String> out = new ArrayList<>();
        Matcher m = BINDING.matcher(source);
        while (m.find()) out.add(m.group().replaceAll("\\.$", ""));
        return out;
    }
}
