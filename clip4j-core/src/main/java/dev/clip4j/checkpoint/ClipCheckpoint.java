package dev.clip4j.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.clip4j.io.AtomicFiles;
import dev.clip4j.model.ClipConfig;
import dev.clip4j.model.ClipModel;
import dev.clip4j.model.Scoring;
import dev.clip4j.model.Towers;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Loads a CLIP model from any supported checkpoint, detecting the format and inferring the architecture from
 * tensor shapes; saves clip4j checkpoints (safetensors with OpenAI names plus a JSON config).
 */
public final class ClipCheckpoint {
    /** The config file of a clip4j model directory. */
    public static final String CONFIG_FILE = "clip4j.json";
    public static final String WEIGHTS_FILE = "model.safetensors";
    /** The {@code clip4j.json} entry naming the model's {@link Scoring} (absent: pooled). */
    static final String SCORING_KEY = "scoring";

    private ClipCheckpoint() {}

    /**
     * Weights under OpenAI's names (float tensors as stored) with the architecture they describe, and how the model
     * scores (token-wise only for clip4j models trained so; every other format is CLIP's pooled scoring).
     */
    public record Loaded(ClipConfig config, Map<String, Tensor> weights, CheckpointFormat format, Scoring scoring) {}

    /**
     * A checkpoint opened for reading: its weights under OpenAI's names, each read from the file only when asked (a
     * zip archive's records are checked against their declared sizes when opened), converted to float32 as they are
     * read. Close it when done to release the file.
     */
    public record Opened(ClipConfig config, Map<String, StoredTensor> weights, CheckpointFormat format, Scoring scoring,
                         Runnable release) implements AutoCloseable {
        /** Releases the file the weights are read from (a safetensors file or a zip archive). */
        @Override
        public void close() {
            release.run();
        }
    }

    /** A weights file opened: its tensors, read on demand, and what releases the file. */
    private record Source(Map<String, StoredTensor> weights, Runnable release) {
        static Source safetensors(Path file) {
            Safetensors.Lazy lazy = Safetensors.open(file);
            return new Source(lazy.tensors(), lazy::close);
        }

        /** A torch.save or TorchScript zip: each tensor's record checked now, read when taken, from the archive kept open. */
        static Source archive(Path file, boolean torchScript) {
            TorchArchive archive = TorchArchive.open(file);
            try {
                return new Source(torchScript ? TorchScriptReader.storedTensors(archive) : TorchPickleReader.storedStateDict(archive),
                        archive::close);
            } catch (RuntimeException e) {
                archive.close();
                throw e;
            }
        }
    }

    /** A model streamed in for inference ({@link #loadForInference}) and, when asked, its {@link ModelFingerprint}. */
    public record ForInference(ClipModel model, String fingerprint) {}

    public static ClipModel loadModel(Path path) {
        Loaded l = read(path);
        try {
            return ClipModel.adoptingStateDict(l.config(), l.weights(), path.toString()).scoring(l.scoring());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(e.getMessage(), e);
        } finally {
            // The model holds the storages it adopted and copies of the rest; free the loaded tensors now rather than
            // whenever the GC runs (an adopted storage lives on in its parameter).
            l.weights().values().forEach(Tensor::close);
        }
    }

    /**
     * A model for inference (evaluation mode), read one tensor at a time ({@link dev.clip4j.nn.Module#stream}); with
     * {@code int8}, each layer is quantized as soon as it is in, so the float model is never whole in memory (a
     * ViT-B/32 safetensors checkpoint loads in its int8 size plus one layer). With {@code fingerprint}, the float
     * weights' {@link ModelFingerprint} is computed on the way, as {@link ModelFingerprint#of} would from the float
     * model.
     */
    public static ForInference loadForInference(Path path, boolean int8, boolean fingerprint) {
        return loadForInference(path, int8, fingerprint, Towers.BOTH);
    }

    /**
     * As {@link #loadForInference(Path, boolean, boolean)}, reading only the {@code towers} the work needs: a tower left
     * out is never read into memory ({@link Towers}; a ViT-B/32's text tower is ~250 MB in float32 and ~140 MB in int8,
     * its image tower ~350 and ~90 MB), though its tensors still go into the fingerprint.
     */
    public static ForInference loadForInference(Path path, boolean int8, boolean fingerprint, Towers towers) {
        try (Opened o = open(path)) {
            return loadForInference(o, path.toString(), int8, fingerprint, towers);
        }
    }

    /**
     * As {@link #loadForInference(Path, boolean, boolean, Towers)} from a checkpoint already {@link #open opened} (which
     * the caller closes), {@code origin} naming it in errors: for a caller that read its configuration first.
     */
    public static ForInference loadForInference(Opened o, String origin, boolean int8, boolean fingerprint, Towers towers) {
        ClipModel model = towers.apply(ClipModel.blankFor(o.config()).scoring(o.scoring()));
        if (!fingerprint) {
            stream(model, o, origin, int8, towers, (k, t) -> {}, (k, passed) -> {}); // a tower left out is never read
            return new ForInference(model, null);
        }
        if (ModelFingerprint.FromFile.covers(o.weights())) {
            // every weight lies as float32 in the file: hashed from there on a thread of its own while this one loads,
            // and a tower left out is never read into memory at all
            try (ModelFingerprint.FromFile hash = new ModelFingerprint.FromFile()) {
                stream(model, o, origin, int8, towers, (k, t) -> hash.add(k, o.weights().get(k)), (k, passed) -> hash.add(k, o.weights().get(k)));
                return new ForInference(model, hash.hex());
            }
        }
        ModelFingerprint.Hasher hash = new ModelFingerprint.Hasher();
        stream(model, o, origin, int8, towers, hash::add, (k, passed) -> {
            try (Tensor t = passed.get()) { // read to be hashed, then dropped
                hash.add(k, t);
            }
        });
        return new ForInference(model, hash.hex());
    }

    private static void stream(ClipModel model, Opened o, String origin, boolean int8, Towers towers,
                               java.util.function.BiConsumer<String, Tensor> loaded,
                               java.util.function.BiConsumer<String, java.util.function.Supplier<Tensor>> passedOver) {
        try {
            model.requireKnownTensors(o.weights().keySet(), origin);
            model.stream(o.weights(), origin, int8, towers::keeps, loaded, passedOver);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(e.getMessage(), e);
        }
    }

    /**
     * {@link #loadForInference(Opened, String, boolean, boolean, Towers)} on a thread of its own, which closes {@code o}
     * when done: for a caller that reads and decodes its first images while the weights load (the configuration is
     * {@code o}'s already). The future fails with the load's own exception.
     */
    public static java.util.concurrent.CompletableFuture<ForInference> loadingForInference(Opened o, String origin, boolean int8,
                                                                                          boolean fingerprint, Towers towers) {
        java.util.concurrent.CompletableFuture<ForInference> model = new java.util.concurrent.CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (o) {
                model.complete(loadForInference(o, origin, int8, fingerprint, towers));
            } catch (Throwable e) {
                model.completeExceptionally(e);
            }
        }, "clip4j-model-load");
        t.setDaemon(true);
        t.start();
        return model;
    }

    /**
     * What {@code loading} (a {@link #loadingForInference} future, or a stage after it) holds, waiting for it; where the
     * load failed, its own exception, as a model loaded on the caller's thread would have thrown.
     */
    public static <T> T await(java.util.concurrent.CompletableFuture<T> loading) {
        try {
            return loading.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw e;
        }
    }

    public static CheckpointFormat detect(Path path) {
        if (Files.isDirectory(path)) {
            if (Files.exists(path.resolve(CONFIG_FILE))) return CheckpointFormat.CLIP4J_DIR;
            if (Files.exists(path.resolve("config.json"))) return CheckpointFormat.HUGGING_FACE_DIR;
            throw new CheckpointException(path + ": directory holds neither " + CONFIG_FILE + " (clip4j), config.json (Hugging Face)"
                    + " nor a training run's checkpoint");
        }
        if (!Files.isRegularFile(path)) throw new CheckpointException(path + ": no such file or directory");
        byte[] head = new byte[9];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot read: " + e.getMessage());
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return TorchPickleReader.isTorchScriptZip(path) ? CheckpointFormat.TORCHSCRIPT : CheckpointFormat.TORCH_SAVE;
        }
        if (n == 9 && head[8] == '{') return CheckpointFormat.SAFETENSORS;
        throw new CheckpointException(path + ": not a recognised checkpoint (expected safetensors, a torch.save or "
                + "TorchScript zip, or a model directory)");
    }

    /** Reads any supported checkpoint whole; a training run directory stands for its newest checkpoint. */
    public static Loaded read(Path named) {
        try (Opened o = open(named)) {
            return new Loaded(o.config(), StoredTensor.readAll(o.weights()), o.format(), o.scoring());
        }
    }

    /** Opens any supported checkpoint ({@link Opened}); a training run directory stands for its newest checkpoint. */
    public static Opened open(Path named) {
        Path path = ModelLocator.resolve(named);
        CheckpointFormat format = detect(path);
        Source source;
        ClipConfig config = null;
        JsonNode hfConfig = null;
        Scoring scoring = Scoring.POOLED;
        switch (format) {
            case CLIP4J_DIR -> {
                try {
                    config = ClipConfig.read(path.resolve(CONFIG_FILE));
                } catch (IOException e) {
                    throw new CheckpointException(e.getMessage(), e);
                }
                JsonNode s = readJson(path.resolve(CONFIG_FILE)).get(SCORING_KEY);
                if (s != null) {
                    try {
                        scoring = Scoring.fromId(s.asText(), path.resolve(CONFIG_FILE).toString());
                    } catch (IllegalArgumentException e) {
                        throw new CheckpointException(e.getMessage(), e);
                    }
                }
                source = Source.safetensors(path.resolve(WEIGHTS_FILE));
            }
            case HUGGING_FACE_DIR -> {
                hfConfig = readJson(path.resolve("config.json"));
                Path st = path.resolve("model.safetensors"), bin = path.resolve("pytorch_model.bin");
                if (Files.exists(st)) source = Source.safetensors(st);
                else if (Files.exists(bin)) source = Source.archive(bin, false);
                else throw new CheckpointException(path + ": Hugging Face directory without model.safetensors or pytorch_model.bin");
            }
            case TORCHSCRIPT, TORCH_SAVE -> source = Source.archive(path, format == CheckpointFormat.TORCHSCRIPT);
            default -> source = Source.safetensors(path);
        }
        try {
            return opened(path, format, source.weights(), config, hfConfig, scoring, source.release());
        } catch (RuntimeException e) {
            source.release().run();
            throw e;
        }
    }

    private static Opened opened(Path path, CheckpointFormat format, Map<String, StoredTensor> weights, ClipConfig config,
                                 JsonNode hfConfig, Scoring scoring, Runnable release) {
        if (hfConfig == null && format != CheckpointFormat.CLIP4J_DIR) {
            // A weights file taken from a Hugging Face directory still has its config.json beside it: the
            // activation check must not be skipped because the file was named directly.
            Path beside = path.toAbsolutePath().getParent() == null ? null : path.toAbsolutePath().getParent().resolve("config.json");
            if (beside != null && Files.isRegularFile(beside) && HuggingFaceClip.looksLikeHuggingFace(weights)) hfConfig = readJson(beside);
        }
        if (HuggingFaceClip.looksLikeHuggingFace(weights)) {
            checkQuickGelu(hfConfig, path);
            weights = HuggingFaceClip.toOpenAi(weights, path.toString());
        }
        weights = toFloat32(weights);
        if (config == null) {
            Map<String, long[]> shapes = new LinkedHashMap<>();
            weights.forEach((k, v) -> shapes.put(k, v.shape()));
            config = ArchitectureInference.infer(shapes, path.toString());
            if (hfConfig != null) config = withHuggingFaceHeads(config, hfConfig);
            config = config.withName(path.getFileName().toString());
        }
        return new Opened(config, weights, format, scoring, release);
    }

    /** fp16/bf16 checkpoints (OpenAI's are fp16) are widened to float32, as {@code clip.load} does on CPU. */
    private static Map<String, StoredTensor> toFloat32(Map<String, StoredTensor> weights) {
        Map<String, StoredTensor> out = new LinkedHashMap<>();
        weights.forEach((k, v) -> {
            DType d = v.dtype();
            out.put(k, d.isFloatingPoint() && d != DType.F32 ? v.map(v.shape(), DType.F32, t -> Tensors.to(t, DType.F32)) : v);
        });
        return out;
    }

    private static JsonNode readJson(Path file) {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file + ": not valid JSON: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
    }

    private static void checkQuickGelu(JsonNode hf, Path path) {
        if (hf == null) return;
        for (String tower : new String[] {"text_config", "vision_config"}) {
            String act = hf.path(tower).path("hidden_act").asText("quick_gelu");
            if (!act.equals("quick_gelu")) {
                throw new CheckpointException(path + ": " + tower + ".hidden_act is '" + act
                        + "'; clip4j implements OpenAI's CLIP, which uses quick_gelu");
            }
        }
    }

    private static ClipConfig withHuggingFaceHeads(ClipConfig c, JsonNode hf) {
        int textHeads = hf.path("text_config").path("num_attention_heads").asInt(c.transformerHeads());
        int visionHeads = hf.path("vision_config").path("num_attention_heads").asInt(c.visionHeads());
        return new ClipConfig(c.name(), c.embedDim(), c.imageResolution(), c.visionLayers(), c.visionWidth(),
                c.visionPatchSize(), visionHeads, c.contextLength(), c.vocabSize(), c.transformerWidth(), textHeads,
                c.transformerLayers());
    }

    /** Writes a clip4j model directory: {@code model.safetensors} (OpenAI names, float32) and {@code clip4j.json}. */
    public static void save(ClipModel model, Path dir) throws IOException {
        model.requireAllWeights();
        Files.createDirectories(dir);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        model.stateDict().forEach((k, v) -> {
            DType d = Tensors.dtype(v);
            tensors.put(k, d.isFloatingPoint() ? Tensors.to(v.detach(), DType.F32) : v.detach());
        });
        Safetensors.write(dir.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt", "producer", "clip4j"));
        String json = model.config().toJson();
        if (model.scoring() != Scoring.POOLED) {
            ObjectNode node = (ObjectNode) new ObjectMapper().readTree(json);
            node.put(SCORING_KEY, model.scoring().id());
            json = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(node);
        }
        AtomicFiles.writeString(dir.resolve(CONFIG_FILE), json);
    }
}
