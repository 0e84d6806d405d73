package dev.clip4j.dist;

import dev.clip4j.InputException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** torchrun's variables: read as torchrun sets them, refused in one line when wrong. */
class DistEnvTest {
    @Test
    void readsTorchrunsVariables() {
        assertThat(DistEnv.from(Map.of())).isNull();
        DistEnv e = DistEnv.from(Map.of("RANK", "1", "WORLD_SIZE", "2", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "29500"));
        assertThat(e.rank()).isEqualTo(1);
        assertThat(e.localRank()).isEqualTo(1);
        assertThat(e.localAddress()).isEqualTo("127.0.0.1");
        assertThat(e.timeout().toSeconds()).isEqualTo(DistEnv.DEFAULT_TIMEOUT_SECONDS);
        DistEnv remote = DistEnv.from(Map.of("RANK", "0", "WORLD_SIZE", "8", "LOCAL_RANK", "0", "MASTER_ADDR", "10.0.0.1",
                "MASTER_PORT", "40000", "CLIP4J_DIST_TIMEOUT", "60"));
        assertThat(remote.localAddress()).isNull(); // this host's name, as Gloo's default device
        assertThat(remote.masterPort()).isEqualTo(40000);
    }

    @Test
    void badVariablesAreRefusedNamingThem() {
        Map<String, String> base = Map.of("WORLD_SIZE", "2", "MASTER_PORT", "29500");
        assertThatThrownBy(() -> DistEnv.from(base)).isInstanceOf(InputException.class).hasMessageContaining("RANK is not set");
        assertThatThrownBy(() -> DistEnv.from(with(base, "RANK", "2"))).hasMessageContaining("RANK must be 0..1, got 2");
        assertThatThrownBy(() -> DistEnv.from(with(with(base, "RANK", "0"), "MASTER_PORT", "70000"))).hasMessageContaining("MASTER_PORT must be 1..65535");
        assertThatThrownBy(() -> DistEnv.from(with(base, "RANK", "x"))).hasMessageContaining("RANK must be an integer, got 'x'");
        assertThatThrownBy(() -> DistEnv.from(with(with(base, "RANK", "0"), "MASTER_ADDR", " "))).hasMessageContaining("MASTER_ADDR is empty");
    }

    private static Map<String, String> with(Map<String, String> m, String k, String v) {
        java.util.HashMap<String, String> c = new java.util.HashMap<>(m);
        c.put(k, v);
        return c;
    }
}
