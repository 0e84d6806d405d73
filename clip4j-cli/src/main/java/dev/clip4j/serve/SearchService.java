package dev.clip4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.InputException;
import dev.clip4j.image.ImageInput;
import dev.clip4j.index.ImageIndex;
import dev.clip4j.index.IndexSource;
import dev.clip4j.index.IndexedImage;
import dev.clip4j.index.SearchHit;
import dev.clip4j.index.SearchOptions;
import dev.clip4j.io.InputLimits;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import io.javalin.Javalin;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.UploadedFile;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The HTTP service over an {@link ImageIndex} (Javalin 7 on Jetty 12: a small, well-kept server that runs on Java 17
 * and routes a handler's exceptions to our JSON errors instead of swallowing them, as the JDK's HttpServer does):
 * search by text, image, embedding or indexed image, embed, rank (the seed's classification demo), thumbnails,
 * health and stats, and the web page at {@code /}. Every refusal is a 4xx with {@code {"error": "..."}}; the model
 * runs on one thread ({@link ModelWorker}), which batches concurrent queries.
 */
public final class SearchService implements AutoCloseable {
    static final int MAX_TEXTS = 256, MAX_IMAGES = 32;
    private static final long QUERY_TIMEOUT_S = 120;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ImageIndex index;
    private final ModelWorker worker;
    private final Thumbnails thumbnails = new Thumbnails();
    private final List<Path> roots = new ArrayList<>();
    private final double logitScale;
    private final ServiceStats stats = new ServiceStats();
    private final Javalin app;

    private SearchService(ImageIndex index, String host, int port) {
        this.index = index;
        for (IndexSource s : index.manifest().sources()) {
            Path root = s.kind().equals(IndexSource.FOLDER) ? s.path() : s.path().getParent();
            try {
                roots.add(root.toRealPath());
            } catch (IOException e) {
                roots.add(root); // a source that is gone: its images fail to open and are answered 404
            }
        }
        try (Scope s = Scope.open()) {
            logitScale = Tensors.item(index.clip().model().logitScale());
        }
        this.worker = new ModelWorker(index.clip());
        long maxUpload = InputLimits.MAX_UPLOAD_BYTES.get();
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.startup.showOldJavalinVersionWarning = false;
            config.http.maxRequestSize = maxUpload;
            config.jetty.multipartConfig.maxFileSize(maxUpload, SizeUnit.BYTES);
            config.jetty.multipartConfig.maxTotalRequestSize(maxUpload, SizeUnit.BYTES);
            config.jetty.multipartConfig.maxInMemoryFileSize((int) Math.min(Integer.MAX_VALUE, maxUpload), SizeUnit.BYTES);
            config.routes.before(ctx -> {
                String len = ctx.header("Content-Length");
                if (len != null) {
                    long n;
                    try {
                        n = Long.parseLong(len.trim());
                    } catch (NumberFormatException e) {
                        throw new ServiceException(400, "Content-Length '" + len + "' is not a number");
                    }
                    if (n > maxUpload) {
                        // Read (and drop) a body up to twice the limit before answering: closing a connection with unread
                        // bytes makes the kernel reset it, and the client, still sending, can lose the 413 and see only
                        // a dropped connection. Beyond that the connection is closed unread.
                        if (n <= 2 * maxUpload) drain(ctx.req().getInputStream(), n);
                        throw new ServiceException(413, "upload of " + n + " bytes is over the limit of " + maxUpload
                                + " (" + InputLimits.MAX_UPLOAD_BYTES.property + ")");
                    }
                }
            });
            config.routes.get("/", ctx -> page(ctx));
            config.routes.get("/api/health", ctx -> json(ctx, 200, Map.of("status", "ok", "images", index.size())));
            config.routes.get("/api/stats", ctx -> json(ctx, 200, stats()));
            config.routes.get("/api/search", this::searchGet);
            config.routes.post("/api/search", this::searchPost);
            config.routes.post("/api/embed", this::embed);
            config.routes.post("/api/rank", this::rank);
            config.routes.get("/api/thumbnail", this::thumbnail);
            config.routes.exception(ServiceException.class, (e, ctx) -> error(ctx, e.status, e.getMessage()));
            config.routes.exception(InputException.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
            config.routes.exception(IllegalArgumentException.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
            config.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), e.getMessage()));
            config.routes.exception(Exception.class, (e, ctx) -> {
                if (System.getenv("CLIP4J_DEBUG") != null) e.printStackTrace();
                error(ctx, 500, "internal error: " + e.getClass().getSimpleName());
            });
            config.routes.error(404, "*", ctx -> {
                if (!"application/json".equals(ctx.res().getContentType())) error(ctx, 404, "no such endpoint: " + ctx.method() + " " + ctx.path());
            });
            config.routes.error(405, "*", ctx -> error(ctx, 405, "method " + ctx.method() + " not allowed on " + ctx.path()));
            config.jetty.host = host;
            config.jetty.port = port;
        });
    }

    /** Reads and drops up to {@code n} bytes of a request body (a client that stops sending ends it early). */
    private static void drain(java.io.InputStream in, long n) {
        byte[] buf = new byte[64 << 10];
        try {
            for (long left = n; left > 0; ) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (r < 0) return;
                left -= r;
            }
        } catch (IOException e) {
            // the client went away: nothing left to answer
        }
    }

    /** Starts the service on {@code host:port} (port 0: any free port; see {@link #port()}). */
    public static SearchService start(ImageIndex index, String host, int port) {
        if (port < 0 || port > 65535) throw new InputException("port " + port + ": expected 0 to 65535");
        SearchService s = new SearchService(index, host, port);
        try {
            s.app.start();
        } catch (RuntimeException e) {
            s.worker.close();
            Throwable root = e;
            while (root.getCause() != null) root = root.getCause();
            if (root instanceof java.net.BindException) throw new InputException(host + ":" + port + ": " + root.getMessage() + " (is another server on that port?)");
            throw e;
        }
        return s;
    }

    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        app.stop();
        worker.close();
    }

    // ---- handlers ----

    private void page(Context ctx) throws IOException {
        try (InputStream in = SearchService.class.getResourceAsStream("index.html")) {
            ctx.contentType("text/html; charset=utf-8").result(in.readAllBytes());
        }
    }

    private void searchGet(Context ctx) {
        long t0 = System.nanoTime();
        SearchOptions o = options(ctx.queryParam("k"), ctx.queryParam("min_score"), ctx.queryParam("dedup"));
        String q = ctx.queryParam("q"), like = ctx.queryParam("like");
        if ((q == null) == (like == null)) throw new ServiceException(400, "give exactly one of q (a text) or like (an indexed image's path)");
        List<SearchHit> hits = like != null ? index.searchLike(like, o) : index.search(await(worker.text(prompt(q, ctx.queryParam("template")))), o);
        answer(ctx, hits, t0);
    }

    private void searchPost(Context ctx) throws IOException {
        long t0 = System.nanoTime();
        List<SearchHit> hits;
        if (ctx.isMultipartFormData()) {
            UploadedFile f = ctx.uploadedFile("image");
            if (f == null) throw new ServiceException(400, "multipart search needs a file part named 'image'");
            SearchOptions o = options(param(ctx, "k"), param(ctx, "min_score"), param(ctx, "dedup"));
            hits = index.search(await(worker.image(ImageInput.of(bytes(f), upload(f)))), o);
        } else if (isJson(ctx)) {
            JsonNode body = body(ctx);
            SearchOptions o = options(text(body, "k"), text(body, "min_score"), text(body, "dedup"));
            int given = (body.has("text") ? 1 : 0) + (body.has("embedding") ? 1 : 0) + (body.has("image") ? 1 : 0) + (body.has("like") ? 1 : 0);
            if (given != 1) throw new ServiceException(400, "give exactly one of text, embedding, image (base64) or like (an indexed image's path)");
            if (body.has("text")) hits = index.search(await(worker.text(prompt(string(body, "text"), body.has("template") ? string(body, "template") : null))), o);
            else if (body.has("like")) hits = index.searchLike(string(body, "like"), o);
            else if (body.has("image")) hits = index.search(await(worker.image(ImageInput.of(base64(string(body, "image"), "image"), "the uploaded image"))), o);
            else hits = index.search(vector(body.get("embedding")), o);
        } else {
            byte[] raw = ctx.bodyAsBytes();
            if (raw.length == 0) throw new ServiceException(400, "an empty body: send an image, multipart form data or JSON");
            SearchOptions o = options(ctx.queryParam("k"), ctx.queryParam("min_score"), ctx.queryParam("dedup"));
            hits = index.search(await(worker.image(ImageInput.of(raw, "the uploaded image"))), o);
        }
        answer(ctx, hits, t0);
    }

    private void embed(Context ctx) throws IOException {
        List<String> texts = new ArrayList<>();
        List<ImageInput> images = new ArrayList<>();
        if (ctx.isMultipartFormData()) {
            texts.addAll(ctx.formParams("text"));
            for (UploadedFile f : ctx.uploadedFiles("image")) images.add(ImageInput.of(bytes(f), upload(f)));
        } else {
            JsonNode body = body(ctx);
            for (JsonNode t : array(body, "texts")) {
                if (!t.isTextual()) throw new ServiceException(400, "texts must be strings");
                texts.add(t.asText());
            }
            int i = 0;
            for (JsonNode b : array(body, "images")) {
                if (!b.isTextual()) throw new ServiceException(400, "images must be base64 strings");
                images.add(ImageInput.of(base64(b.asText(), "images[" + i + "]"), "images[" + i++ + "]"));
            }
        }
        if (texts.isEmpty() && images.isEmpty()) throw new ServiceException(400, "nothing to embed: give texts and/or images");
        if (texts.size() > MAX_TEXTS) throw new ServiceException(400, texts.size() + " texts: at most " + MAX_TEXTS + " per request");
        if (images.size() > MAX_IMAGES) throw new ServiceException(400, images.size() + " images: at most " + MAX_IMAGES + " per request");
        for (String t : texts) checkQuery(t);
        List<CompletableFuture<float[]>> tf = texts.stream().map(worker::text).toList();
        List<CompletableFuture<float[]>> imf = images.stream().map(worker::image).toList();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("text_features", tf.stream().map(SearchService::await).toList());
        out.put("image_features", imf.stream().map(SearchService::await).toList());
        json(ctx, 200, out);
    }

    private void rank(Context ctx) throws IOException {
        ImageInput image;
        List<String> texts = new ArrayList<>();
        if (ctx.isMultipartFormData()) {
            UploadedFile f = ctx.uploadedFile("image");
            if (f == null) throw new ServiceException(400, "rank needs a file part named 'image'");
            image = ImageInput.of(bytes(f), upload(f));
            texts.addAll(ctx.formParams("text"));
        } else {
            JsonNode body = body(ctx);
            image = ImageInput.of(base64(string(body, "image"), "image"), "the uploaded image");
            for (JsonNode t : array(body, "texts")) {
                if (!t.isTextual()) throw new ServiceException(400, "texts must be strings");
                texts.add(t.asText());
            }
        }
        if (texts.isEmpty()) throw new ServiceException(400, "rank needs candidate texts");
        if (texts.size() > MAX_TEXTS) throw new ServiceException(400, texts.size() + " texts: at most " + MAX_TEXTS + " per request");
        for (String t : texts) checkQuery(t);
        CompletableFuture<float[]> img = worker.image(image);
        List<CompletableFuture<float[]>> tf = texts.stream().map(worker::text).toList();
        float[] v = await(img);
        double[] logits = new double[texts.size()];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            float[] t = await(tf.get(i));
            double dot = 0;
            for (int d = 0; d < t.length; d++) dot += (double) v[d] * t[d];
            logits[i] = logitScale * dot;
            max = Math.max(max, logits[i]);
        }
        double sum = 0;
        double[] p = new double[logits.length];
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp(logits[i] - max);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < p.length; i++) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("text", texts.get(i));
            r.put("probability", p[i] / sum);
            r.put("score", logits[i] / logitScale);
            rows.add(r);
        }
        json(ctx, 200, Map.of("results", rows, "logit_scale", logitScale));
    }

    private void thumbnail(Context ctx) {
        String path = ctx.queryParam("path");
        if (path == null || path.isEmpty()) throw new ServiceException(400, "thumbnail needs path");
        int size = integer(ctx.queryParam("size"), "size", Thumbnails.DEFAULT_SIZE, Thumbnails.MIN_SIZE, Thumbnails.MAX_SIZE);
        IndexedImage entry = index.image(path);
        if (entry == null) throw new ServiceException(404, "not an indexed image: " + abbreviate(path));
        Path file = Path.of(entry.path());
        Path real;
        try {
            real = file.toRealPath();
        } catch (IOException e) {
            throw new ServiceException(404, "the indexed image is no longer there: " + abbreviate(path));
        }
        if (roots.stream().noneMatch(real::startsWith) && !isCaptionsIndex()) {
            throw new ServiceException(403, "the indexed image now resolves outside the indexed folders");
        }
        byte[] jpeg = thumbnails.get(real, size);
        ctx.header("Cache-Control", "max-age=3600").contentType("image/jpeg").result(jpeg);
    }

    private boolean isCaptionsIndex() {
        return index.manifest().sources().stream().anyMatch(s -> s.kind().equals(IndexSource.CAPTIONS));
    }

    // ---- parameters and answers ----

    private void answer(Context ctx, List<SearchHit> hits, long t0) {
        double ms = (System.nanoTime() - t0) / 1e6;
        stats.record(ms);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (SearchHit h : hits) rows.add(h.fields(false));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("results", rows);
        out.put("took_ms", Math.round(ms * 100) / 100.0);
        json(ctx, 200, out);
    }

    private Map<String, Object> stats() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("images", index.size());
        m.put("dimension", index.manifest().dimension());
        m.put("model", index.manifest().modelPath());
        m.put("model_sha256", index.manifest().modelSha256());
        m.put("precision", index.manifest().precision());
        m.put("sources", index.manifest().sources().stream().map(s -> Map.of(s.kind(), s.path().toString())).toList());
        m.putAll(stats.snapshot());
        m.put("model_batches", worker.batches());
        m.put("model_items", worker.items());
        return m;
    }

    private static SearchOptions options(String k, String minScore, String dedup) {
        SearchOptions o = SearchOptions.top(integer(k, "k", 10, 1, SearchOptions.MAX_K));
        // the ranges are SearchOptions' own checks (an InputException, answered 400)
        if (minScore != null && !minScore.isEmpty()) o = o.withMinScore((float) number(minScore, "min_score"));
        if (dedup != null && !dedup.isEmpty()) o = o.withDedup((float) number(dedup, "dedup"));
        return o;
    }

    private static int integer(String v, String name, int dflt, int min, int max) {
        if (v == null || v.isEmpty()) return dflt;
        long n;
        try {
            n = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new ServiceException(400, name + " '" + abbreviate(v) + "' is not an integer");
        }
        if (n < min || n > max) throw new ServiceException(400, name + " = " + n + ": expected " + min + " to " + max);
        return (int) n;
    }

    private static double number(String v, String name) {
        try {
            double d = Double.parseDouble(v.trim());
            if (!Double.isFinite(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw new ServiceException(400, name + " '" + abbreviate(v) + "' is not a finite number");
        }
    }

    private static String prompt(String q, String template) {
        checkQuery(q);
        if (q.isBlank()) throw new ServiceException(400, "an empty text query");
        if (template == null || template.isEmpty()) return q;
        checkQuery(template);
        return template.contains("{}") ? template.replace("{}", q) : template + " " + q;
    }

    private static void checkQuery(String q) {
        int max = InputLimits.MAX_QUERY_CHARS.getInt();
        if (q.length() > max) throw new ServiceException(400, "a text of " + q.length() + " characters is over the limit of " + max
                + " (" + InputLimits.MAX_QUERY_CHARS.property + ")");
    }

    private static String param(Context ctx, String name) {
        String v = ctx.formParam(name);
        return v != null ? v : ctx.queryParam(name);
    }

    private static boolean isJson(Context ctx) {
        String t = ctx.contentType();
        return t != null && t.toLowerCase(java.util.Locale.ROOT).startsWith("application/json");
    }

    private static JsonNode body(Context ctx) {
        byte[] raw = ctx.bodyAsBytes();
        JsonNode n;
        try {
            n = JSON.readTree(raw);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ServiceException(400, "malformed JSON: " + abbreviate(String.valueOf(e.getOriginalMessage())));
        } catch (IOException e) {
            throw new ServiceException(400, "malformed JSON");
        }
        if (n == null || !n.isObject()) throw new ServiceException(400, "the body must be a JSON object");
        return n;
    }

    private static String text(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isValueNode()) throw new ServiceException(400, field + " must be a number");
        return v.asText();
    }

    private static String string(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || !v.isTextual()) throw new ServiceException(400, field + " must be a string");
        return v.asText();
    }

    private static Iterable<JsonNode> array(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return List.of();
        if (!v.isArray()) throw new ServiceException(400, field + " must be an array");
        return v;
    }

    private float[] vector(JsonNode v) {
        if (v == null || !v.isArray()) throw new ServiceException(400, "embedding must be an array of numbers");
        if (v.size() != index.manifest().dimension()) {
            throw new ServiceException(400, "embedding of " + v.size() + " numbers; the index holds " + index.manifest().dimension());
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            if (!v.get(i).isNumber()) throw new ServiceException(400, "embedding[" + i + "] is not a number");
            out[i] = (float) v.get(i).asDouble();
        }
        return out;
    }

    private static byte[] base64(String s, String what) {
        try {
            return Base64.getMimeDecoder().decode(s.startsWith("data:") ? s.substring(s.indexOf(',') + 1) : s);
        } catch (IllegalArgumentException e) {
            throw new ServiceException(400, what + " is not valid base64");
        }
    }

    private static byte[] bytes(UploadedFile f) throws IOException {
        try (InputStream in = f.content()) {
            return in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, InputLimits.MAX_UPLOAD_BYTES.get()));
        }
    }

    private static String upload(UploadedFile f) {
        String n = f.filename();
        return n == null || n.isBlank() ? "the uploaded image" : abbreviate(n.replaceAll("[\\p{Cntrl}]", "?"));
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }

    private static float[] await(CompletableFuture<float[]> f) {
        try {
            return f.get(QUERY_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServiceException(503, "interrupted");
        } catch (TimeoutException e) {
            throw new ServiceException(503, "the model did not answer within " + QUERY_TIMEOUT_S + " s");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof ServiceException s) throw s;
            if (c instanceof InputException i) throw new ServiceException(400, i.getMessage());
            if (c instanceof OutOfMemoryError) throw new ServiceException(413, "the request needs more memory than the server has");
            throw new IllegalStateException("the model failed: " + c, c);
        }
    }

    private static void json(Context ctx, int status, Object body) {
        try {
            ctx.status(status).contentType("application/json").result(JSON.writeValueAsBytes(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void error(Context ctx, int status, String message) {
        json(ctx, status, Map.of("error", message == null ? "error " + status : message, "status", status));
    }
}
