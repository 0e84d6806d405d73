import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.model.ClipConfig;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Torch;

import java.nio.file.Path;

/** Saves ARCH with random weights (seed 0) at OUT, for benchmarks whose speed does not depend on the weights. */
public class RandomModel {
    public static void main(String[] a) throws Exception {
        Torch.manualSeed(0);
        ClipCheckpoint.save(ClipModel.create(ClipConfig.builtIn(a[0])), Path.of(a[1]));
    }
}
