package dev.clip4j.torch;

import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.function.Supplier;

/**
 * CPU bf16 autocast, as {@code torch.autocast("cpu", dtype=torch.bfloat16)}.
 *
 * <p>Pitfall 7: autocast caches the bf16 copies of leaf weights that require grad, and Python clears that
 * cache when the outermost autocast region exits. Here nothing does it for us: {@link #close} clears it,
 * and training code must call {@link #clearCache()} after every optimizer step, or the next forward
 * silently uses the weights of before the step.
 */
public final class Autocast implements AutoCloseable {
    private final boolean previous;

    private Autocast() {
        Torch.init();
        previous = torch.is_autocast_enabled(DeviceType.CPU);
        torch.set_autocast_dtype(DeviceType.CPU, ScalarType.BFloat16);
        torch.set_autocast_enabled(DeviceType.CPU, true);
    }

    /** Enters a bf16 autocast region; close it with try-with-resources. */
    public static Autocast bf16() {
        return new Autocast();
    }

    /** Whether a bf16 autocast region is active on this thread. */
    public static boolean active() {
        Torch.init();
        return torch.is_autocast_enabled(DeviceType.CPU);
    }

    /**
     * Runs {@code op} with autocast switched off (its cache kept), for an operation that should see its
     * inputs' own types, e.g. attention done in float32 inside a bf16 region.
     */
    public static <T> T suspended(Supplier<T> op) {
        if (!active()) return op.get();
        torch.set_autocast_enabled(DeviceType.CPU, false);
        try {
            return op.get();
        } finally {
            torch.set_autocast_enabled(DeviceType.CPU, true);
        }
    }

    public static void clearCache() {
        Torch.init();
        torch.clear_cache();
    }

    @Override
    public void close() {
        torch.set_autocast_enabled(DeviceType.CPU, previous);
        if (!previous) torch.clear_cache();
    }
}
