package dev.clip4j.train;

import dev.clip4j.InputException;
import dev.clip4j.torch.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** A fixed temperature holds for the whole run; a learned one moves; bad values are refused by name. */
class TemperatureTest {
    @TempDir
    Path tmp;
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @Test
    void fixedTemperatureIsSetAndNeverTrained() throws Exception {
        Path data = TinyData.colourFolders(tmp.resolve("data"), 8, 1), config = TinyData.tinyConfig(tmp);
        for (String loss : new String[] {"infonce", "siglip"}) {
            TrainOptions o = TinyData.options(data, config, 2, 6, 0, 0).toBuilder().temperature("fixed:0.05").loss(loss).build();
            Trainer t = new Trainer(o, tmp.resolve("fixed-" + loss), false, QUIET);
            float before = Tensors.item(t.model().logitScaleParameter());
            assertThat((double) before).as(loss).isCloseTo(Math.log(20), within(1e-6));
            assertThat(t.objective().trainableParameters()).doesNotContainKey("logit_scale");
            t.run();
            assertThat(Tensors.item(t.model().logitScaleParameter())).as(loss).isEqualTo(before);
        }
        Trainer learned = new Trainer(TinyData.options(data, config, 2, 6, 0, 0), tmp.resolve("learned"), false, QUIET);
        float start = Tensors.item(learned.model().logitScaleParameter());
        learned.run();
        assertThat(Tensors.item(learned.model().logitScaleParameter())).isNotEqualTo(start);
    }

    @Test
    void badTemperaturesAreRefused() {
        TrainOptions base = TrainOptions.builder().data("x").epochs(1).build();
        for (String bad : new String[] {"fixed:0.001", "fixed:abc", "fixed:NaN", "0.05", "cold"}) {
            assertThatThrownBy(() -> base.toBuilder().temperature(bad).build().validate()).as(bad)
                    .isInstanceOf(InputException.class).hasMessageContaining("temperature must be");
        }
        assertThat(base.toBuilder().temperature("fixed:0.05").build().validate().fixedTemperature()).isEqualTo(0.05);
    }
}
