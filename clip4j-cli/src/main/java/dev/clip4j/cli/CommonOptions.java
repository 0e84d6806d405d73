package dev.clip4j.cli;

import dev.clip4j.Precision;
import dev.clip4j.torch.Torch;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options shared by several commands, as picocli mixins, so each means the same everywhere. */
final class CommonOptions {
    private CommonOptions() {}

    /** {@code --threads}: libtorch's intra-op threads; 0 is one per core. */
    static final class Threads {
        @Option(names = "--threads", defaultValue = "0", description = "libtorch threads (default: one per core).")
        int threads;

        /** Validates and applies the setting. */
        void apply() {
            Torch.setThreads(Options.threads(threads));
        }
    }

    /**
     * {@code --model}: a checkpoint file, a model directory, or a training run directory (its newest checkpoint;
     * resolved by the core's {@link dev.clip4j.checkpoint.ModelLocator}).
     */
    static final class Model {
        @Option(names = "--model", required = true,
                description = "Checkpoint file, model directory, or training run directory (its newest checkpoint).")
        Path model;
    }

    /**
     * {@code --precision} for inference commands: fp32 (the exact reference) or bf16 (weights converted to bfloat16,
     * norms and logit_scale kept float32). Training's --precision means autocast instead and is declared there.
     */
    static final class InferencePrecision {
        @Option(names = "--precision", defaultValue = "fp32",
                description = "fp32 (exact reference, default) or bf16 (weights converted to bfloat16).")
        String precision;

        Precision get() {
            return Precision.parse(precision);
        }
    }
}
