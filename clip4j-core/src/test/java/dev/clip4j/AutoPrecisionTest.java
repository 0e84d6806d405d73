package dev.clip4j;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code --precision auto}: the decision from CPU flags and the probe, the override, and the probe itself. */
class AutoPrecisionTest {
    static final java.util.function.DoubleSupplier NEVER = () -> {
        throw new AssertionError("no probe without native bf16");
    };

    @Test
    void withoutNativeBf16ItIsFp32AndNothingIsProbed() {
        AutoPrecision.Choice c = AutoPrecision.decide(null, Set.of("avx2", "fma", "avx512f"), NEVER);
        assertThat(c.precision()).isEqualTo(Precision.FP32);
        assertThat(c.reason()).contains("no native bf16");
    }

    @Test
    void withNativeBf16ItIsWhicheverMeasuresFaster() {
        AutoPrecision.Choice fast = AutoPrecision.decide(null, Set.of("avx512_bf16"), () -> 4.5);
        assertThat(fast.precision()).isEqualTo(Precision.BF16);
        assertThat(fast.reason()).contains("avx512_bf16").contains("4.5x");
        assertThat(AutoPrecision.decide(null, Set.of("amx_bf16", "avx512_bf16"), () -> 2.0).reason()).contains("amx_bf16");
        // a tie keeps the exact reference: bf16's features differ from fp32's
        assertThat(AutoPrecision.decide(null, Set.of("amx_bf16"), () -> 1.1).precision()).isEqualTo(Precision.FP32);
    }

    @Test
    void theOverrideDecidesWithoutProbing() {
        assertThat(AutoPrecision.decide("bf16", Set.of(), NEVER).precision()).isEqualTo(Precision.BF16);
        assertThat(AutoPrecision.decide("fp32", Set.of("amx_bf16"), NEVER).precision()).isEqualTo(Precision.FP32);
        assertThatThrownBy(() -> AutoPrecision.decide("auto", Set.of(), NEVER)).isInstanceOf(InputException.class)
                .hasMessage("CLIP4J_AUTO_PRECISION must be fp32 or bf16, got 'auto'");
        // the suite runs with CLIP4J_AUTO_PRECISION=fp32 (pom.xml), so "auto" is fp32 in every test
        assertThat(Precision.parse("auto")).isEqualTo(Precision.FP32);
        assertThatThrownBy(() -> Precision.parse("fp16")).hasMessageContaining("fp32, bf16, int8 or auto");
        // auto never means int8, not even when told to (its features are further from fp32's: the user's choice)
        assertThatThrownBy(() -> AutoPrecision.decide("int8", Set.of(), NEVER)).isInstanceOf(InputException.class)
                .hasMessage("CLIP4J_AUTO_PRECISION must be fp32 or bf16, got 'int8'");
    }

    @Test
    void theProbeMeasuresBothPrecisions() {
        double speedup = AutoPrecision.probeSpeedup();
        assertThat(speedup).isFinite().isPositive();
        assertThat(AutoPrecision.cpuFlags()).as("/proc/cpuinfo on Linux").isNotEmpty();
    }
}
