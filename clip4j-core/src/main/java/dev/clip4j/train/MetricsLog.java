package dev.clip4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code metrics.jsonl}: one JSON line per step (and per evaluation), flushed before every checkpoint. */
public final class MetricsLog implements TrainingListener, Closeable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final BufferedWriter out;

    public MetricsLog(Path file) throws IOException {
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @Override
    public void onStep(Step s) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", s.step());
        m.put("epoch", s.epoch());
        m.put("loss", s.loss());
        s.losses().forEach((k, v) -> {
            if (!k.equals("loss")) m.put(k, v);
        });
        m.put("lr", s.lr());
        m.putAll(s.metrics());
        m.put("grad_norm", s.gradNorm());
        m.put("samples_per_sec", s.samplesPerSecond());
        m.put("elapsed_s", s.elapsedSeconds());
        m.put("rss_mb", dev.clip4j.io.ProcessMemory.rssMb());
        write(m);
    }

    /** Writes any other record (an evaluation) as one line. */
    public void write(Map<String, Object> record) throws IOException {
        out.write(JSON.writeValueAsString(record));
        out.newLine();
    }

    @Override
    public void beforeCheckpoint(long step) throws IOException {
        out.flush();
    }

    @Override
    public void onEnd(RunState state) throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
