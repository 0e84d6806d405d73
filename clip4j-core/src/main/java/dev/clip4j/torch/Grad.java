package dev.clip4j.torch;

import org.bytedeco.pytorch.NoGradGuard;

import java.util.function.Supplier;

/** Autograd switches. */
public final class Grad {
    private Grad() {}

    /** Runs {@code body} with gradient recording off (like {@code torch.no_grad()}). */
    public static <T> T noGrad(Supplier<T> body) {
        Torch.init();
        try (NoGradGuard guard = new NoGradGuard()) {
            return body.get();
        }
    }

    public static void noGrad(Runnable body) {
        noGrad(() -> {
            body.run();
            return null;
        });
    }
}
