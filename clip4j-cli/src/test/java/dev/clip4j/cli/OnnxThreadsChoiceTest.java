package dev.clip4j.cli;

import dev.clip4j.onnx.OnnxThreads;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * embed and classify run ONNX Runtime in slices of each batch where they have as many inputs as --backend auto counts
 * worth ONNX Runtime (64 images, or 32 texts counting as one), and every thread on one input at a time below that.
 */
class OnnxThreadsChoiceTest {
    @Test
    void manyInputsRunInSlicesAFewOnEveryThread() {
        assertThat(CommonOptions.onnxThreads(1, 1)).isEqualTo(OnnxThreads.SPIN);
        assertThat(CommonOptions.onnxThreads(63, 31)).isEqualTo(OnnxThreads.SPIN);
        assertThat(CommonOptions.onnxThreads(64, 0)).isEqualTo(OnnxThreads.SLICES);
        assertThat(CommonOptions.onnxThreads(0, 2047)).isEqualTo(OnnxThreads.SPIN);
        assertThat(CommonOptions.onnxThreads(0, 2048)).isEqualTo(OnnxThreads.SLICES);
        assertThat(CommonOptions.onnxThreads(32, 1024)).isEqualTo(OnnxThreads.SLICES);
    }
}
