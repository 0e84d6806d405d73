package dev.clip4j.train;

import dev.clip4j.data.Datasets;
import dev.clip4j.eval.ZeroShot;
import dev.clip4j.eval.ZeroShotResult;
import dev.clip4j.model.ClipModel;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Zero-shot accuracy on an evaluation set every N steps, written into the metrics log. */
public final class PeriodicZeroShot implements TrainingListener {
    private final ClipModel model;
    private final String data;
    private final int every;
    private final MetricsLog log;

    public PeriodicZeroShot(ClipModel model, String data, int every, MetricsLog log) {
        this.model = model;
        this.data = data;
        this.every = every;
        this.log = log;
    }

    @Override
    public void onStep(Step s) throws IOException {
        if (every <= 0 || s.step() % every != 0) return;
        model.train(false);
        try {
            dev.clip4j.data.ImageTextDataset ds = Datasets.open(data);
            ZeroShotResult r = ZeroShot.evaluate(model, ds, ds.templates(), 256);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", s.step());
            m.put("zero_shot_top1", r.top1());
            m.put("zero_shot_data", r.dataset());
            log.write(m);
        } finally {
            model.train(true);
        }
    }
}
