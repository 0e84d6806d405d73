package dev.clip4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.clip4j.Precision;
import dev.clip4j.index.ImageIndex;
import dev.clip4j.index.IndexFixture;
import dev.clip4j.index.IndexProgress;
import dev.clip4j.index.IndexSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Every endpoint of the service, its refusals (each a 4xx with a JSON error), and a bounded load test. */
class SearchServiceTest {
    static final int UPLOAD_LIMIT = 300_000;
    static Path dir, images;
    static ImageIndex index;
    static SearchService service;
    static Http http;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("clip4j-serve-test");
        images = IndexFixture.colourFolders(dir.resolve("photos"), 4, 31);
        System.setProperty("clip4j.limits.maxUploadBytes", "" + UPLOAD_LIMIT);
        index = ImageIndex.build(IndexFixture.get().model(), IndexSource.of(images), dir.resolve("idx"), Precision.FP32, 8, IndexProgress.NONE);
        service = SearchService.start(index, "127.0.0.1", 0);
        http = new Http(service.port());
    }

    @AfterAll
    static void stop() throws Exception {
        service.close();
        index.close();
        System.clearProperty("clip4j.limits.maxUploadBytes");
        dev.clip4j.data.DataFiles.deleteTree(dir);
    }

    static byte[] png(int colour, long seed) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(IndexFixture.image(colour, new Random(seed)), "png", out);
        return out.toByteArray();
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String colourOf(JsonNode result) {
        return Path.of(result.get("path").asText()).getParent().getFileName().toString();
    }

    static void assertError(Http.Answer a, int status, String containing) throws Exception {
        assertThat(a.status()).as(new String(a.body(), StandardCharsets.UTF_8)).isEqualTo(status);
        assertThat(a.contentType()).startsWith("application/json");
        assertThat(a.json().get("error").asText()).contains(containing);
    }

    @Test
    void healthStatsAndPage() throws Exception {
        JsonNode h = http.get("/api/health").json();
        assertThat(h.get("status").asText()).isEqualTo("ok");
        assertThat(h.get("images").asInt()).isEqualTo(12);
        JsonNode s = http.get("/api/stats").json();
        assertThat(s.get("dimension").asInt()).isEqualTo(16);
        assertThat(s.get("model_sha256").asText()).hasSize(64);
        Http.Answer page = http.get("/");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.contentType()).startsWith("text/html");
        assertThat(new String(page.body(), StandardCharsets.UTF_8)).contains("id=\"query\"", "id=\"threshold\"", "id=\"drop\"");
    }

    @Test
    void searchesByTextImageEmbeddingAndIndexedImage() throws Exception {
        for (String colour : IndexFixture.COLOURS) {
            JsonNode r = http.get("/api/search?k=3&template=" + enc("a photo of a {}.") + "&q=" + enc(colour)).json().get("results");
            assertThat(r).hasSize(3);
            assertThat(colourOf(r.get(0))).isEqualTo(colour);
            assertThat(r.get(0).get("rank").asInt()).isEqualTo(1);
            assertThat(r.get(0).get("score").asDouble()).isGreaterThanOrEqualTo(r.get(1).get("score").asDouble());
        }
        byte[] blue = png(2, 77);
        assertThat(colourOf(http.postForm("/api/search", List.of("image", blue, "k", "2")).json().get("results").get(0))).isEqualTo("blue");
        assertThat(colourOf(http.post("/api/search?k=2", "image/png", blue).json().get("results").get(0))).isEqualTo("blue");
        String b64 = Base64.getEncoder().encodeToString(png(1, 78));
        assertThat(colourOf(http.postJson("/api/search", "{\"image\": \"" + b64 + "\", \"k\": 1}").json().get("results").get(0))).isEqualTo("green");
        assertThat(colourOf(http.postJson("/api/search", "{\"text\": \"red\", \"template\": \"a photo of a {}.\"}").json().get("results").get(0)))
                .isEqualTo("red");
        String self = images.resolve("green/2.png").toAbsolutePath().toString();
        JsonNode like = http.get("/api/search?k=1&like=" + enc(self)).json().get("results").get(0);
        assertThat(like.get("path").asText()).isEqualTo(self);
        assertThat(like.get("score").asDouble()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        // an embedding from /api/embed searches like the text it came from
        JsonNode f = http.postJson("/api/embed", "{\"texts\": [\"a photo of a red.\"]}").json().get("text_features").get(0);
        assertThat(f).hasSize(16);
        JsonNode byVector = http.postJson("/api/search", "{\"embedding\": " + f + ", \"k\": 1}").json().get("results").get(0);
        assertThat(colourOf(byVector)).isEqualTo("red");
        JsonNode minScored = http.get("/api/search?k=12&min_score=0.999&like=" + enc(self)).json().get("results");
        assertThat(minScored).allMatch(n -> n.get("score").asDouble() >= 0.999);
    }

    @Test
    void embedAndRank() throws Exception {
        String b64 = Base64.getEncoder().encodeToString(png(0, 80));
        JsonNode e = http.postJson("/api/embed", "{\"texts\": [\"red\", \"blue\"], \"images\": [\"" + b64 + "\"]}").json();
        assertThat(e.get("text_features")).hasSize(2);
        assertThat(e.get("image_features")).hasSize(1);
        double norm = 0;
        for (JsonNode x : e.get("image_features").get(0)) norm += x.asDouble() * x.asDouble();
        assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        JsonNode form = http.postForm("/api/embed", List.of("text", "green", "image", png(1, 81))).json();
        assertThat(form.get("text_features")).hasSize(1);
        assertThat(form.get("image_features")).hasSize(1);

        JsonNode rank = http.postForm("/api/rank", List.of("image", png(0, 82), "text", "a photo of a red.", "text", "a photo of a green.",
                "text", "a photo of a blue.")).json().get("results");
        double sum = 0;
        for (JsonNode r : rank) sum += r.get("probability").asDouble();
        assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(rank.get(0).get("probability").asDouble()).isGreaterThan(rank.get(1).get("probability").asDouble())
                .isGreaterThan(rank.get(2).get("probability").asDouble());
        JsonNode rankJson = http.postJson("/api/rank", "{\"image\": \"" + b64 + "\", \"texts\": [\"a photo of a red.\", \"a photo of a blue.\"]}")
                .json().get("results");
        assertThat(rankJson).hasSize(2);
    }

    @Test
    void thumbnailsOfIndexedImagesOnly() throws Exception {
        String self = images.resolve("red/1.png").toAbsolutePath().toString();
        Http.Answer t = http.get("/api/thumbnail?size=16&path=" + enc(self));
        assertThat(t.status()).isEqualTo(200);
        assertThat(t.contentType()).isEqualTo("image/jpeg");
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(t.body()));
        assertThat(Math.max(img.getWidth(), img.getHeight())).isEqualTo(16);
        for (String attack : List.of("../../etc/passwd", "/etc/passwd", images + "/../../../../etc/passwd", images + "/red/../../idx/index.json",
                "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%2f..%2fetc%2fpasswd", "....//....//etc/passwd", self + "\u0000.png")) {
            assertError(http.get("/api/thumbnail?path=" + enc(attack)), 404, "not an indexed image");
        }
        assertError(http.get("/api/thumbnail?path=%252e%252e%252fetc%252fpasswd"), 404, "not an indexed image");
        assertError(http.get("/api/thumbnail"), 400, "needs path");
        assertError(http.get("/api/thumbnail?size=0&path=" + enc(self)), 400, "size = 0");
        assertError(http.get("/api/thumbnail?size=100000&path=" + enc(self)), 400, "size = 100000");
    }

    @Test
    void anIndexedFileSwappedForALinkOutsideIsRefused() throws Exception {
        Path photos = IndexFixture.colourFolders(dir.resolve("swap"), 1, 33);
        try (ImageIndex own = ImageIndex.build(IndexFixture.get().model(), IndexSource.of(photos), dir.resolve("swap-idx"), Precision.FP32, 8,
                IndexProgress.NONE); SearchService s = SearchService.start(own, "127.0.0.1", 0)) {
            Path victim = photos.resolve("red/0.png");
            Files.delete(victim);
            Path outside = Files.write(dir.resolve("outside.png"), png(0, 1));
            Files.createSymbolicLink(victim, outside);
            assertError(new Http(s.port()).get("/api/thumbnail?path=" + enc(victim.toAbsolutePath().toString())), 403, "outside the indexed folders");
        }
    }

    @Test
    void badRequestsAreJsonErrors() throws Exception {
        assertError(http.get("/api/search?q=red&k=0"), 400, "k = 0");
        assertError(http.get("/api/search?q=red&k=-5"), 400, "k = -5");
        assertError(http.get("/api/search?q=red&k=1001"), 400, "k = 1001");
        assertError(http.get("/api/search?q=red&k=99999999999999999999999"), 400, "not an integer");
        assertError(http.get("/api/search?q=red&k=abc"), 400, "not an integer");
        assertError(http.get("/api/search?q=red&min_score=nan"), 400, "min_score");
        assertError(http.get("/api/search?q=red&min_score=2"), 400, "at most 1");
        assertError(http.get("/api/search?q=red&dedup=0"), 400, "dedup");
        assertError(http.get("/api/search"), 400, "exactly one of q");
        assertError(http.get("/api/search?q=" + enc(" ")), 400, "empty text query");
        assertError(http.get("/api/search?q=" + "a".repeat(2049)), 400, "maxQueryChars");
        assertError(http.get("/api/search?like=" + enc("/etc/passwd")), 400, "not in the index");
        assertError(http.postJson("/api/search", "{\"text\": "), 400, "malformed JSON");
        assertError(http.postJson("/api/search", "[1, 2]"), 400, "JSON object");
        assertError(http.postJson("/api/search", "{}"), 400, "exactly one of");
        assertError(http.postJson("/api/search", "{\"text\": \"red\", \"like\": \"x\"}"), 400, "exactly one of");
        assertError(http.postJson("/api/search", "{\"embedding\": [1, 2, 3]}"), 400, "3 numbers");
        assertError(http.postJson("/api/search", "{\"embedding\": \"x\"}"), 400, "array of numbers");
        assertError(http.postJson("/api/search", "{\"image\": \"@@@not base64@@@\"}"), 400, "not valid base64");
        assertError(http.postJson("/api/search", "{\"text\": \"red\", \"k\": {\"a\": 1}}"), 400, "k must be a number");
        assertError(http.postJson("/api/search", "[".repeat(5000)), 400, "malformed JSON");
        assertError(http.post("/api/search", "image/png", "this is not an image".getBytes(StandardCharsets.UTF_8)), 400, "not an image");
        assertError(http.postForm("/api/search", List.of("image", "GIF89a-truncated".getBytes(StandardCharsets.UTF_8))), 400, "");
        assertError(http.postForm("/api/search", List.of("k", "3")), 400, "named 'image'");
        assertError(http.post("/api/search", "image/png", new byte[0]), 400, "empty body");
        assertError(http.post("/api/search", "image/png", new byte[UPLOAD_LIMIT + 1]), 413, "over the limit");
        // every time: the service reads a moderately oversized body before answering, so the client, still sending,
        // is not reset and gets the 413 (before, about 1 in 60 such uploads saw only a dropped connection)
        for (int i = 0; i < 30; i++) assertError(http.post("/api/search", "image/png", new byte[UPLOAD_LIMIT + 1 + 1000 * i]), 413, "over the limit");
        assertError(http.postForm("/api/search", List.of("image", new byte[UPLOAD_LIMIT + 10])), 413, "over the limit");
        assertError(http.postJson("/api/embed", "{}"), 400, "nothing to embed");
        assertError(http.postJson("/api/embed", "{\"texts\": [1]}"), 400, "strings");
        StringBuilder many = new StringBuilder("{\"texts\": [");
        for (int i = 0; i <= SearchService.MAX_TEXTS; i++) many.append(i == 0 ? "" : ",").append("\"t\"");
        assertError(http.postJson("/api/embed", many.append("]}").toString()), 400, "at most " + SearchService.MAX_TEXTS);
        assertError(http.postForm("/api/rank", List.of("image", png(0, 5))), 400, "candidate texts");
        assertError(http.postJson("/api/rank", "{\"texts\": [\"a\"]}"), 400, "image must be a string");
        assertError(http.get("/api/nothing-here"), 404, "not found");
        assertError(http.post("/api/health", "application/json", "{}".getBytes(StandardCharsets.UTF_8)), 404, "");
        // the service still answers after all of that
        assertThat(http.get("/api/health").status()).isEqualTo(200);
    }

    /** 8 clients searching at once for 15 s: every answer 200, queries batched, and the heap does not grow. */
    @Test
    void boundedLoad() throws Exception {
        for (int i = 0; i < 20; i++) http.get("/api/search?q=red&k=5"); // warm-up
        long heapBefore = usedHeapAfterGc();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicInteger ok = new AtomicInteger(), bad = new AtomicInteger();
        long end = System.nanoTime() + 15_000_000_000L;
        List<Future<?>> clients = new ArrayList<>();
        for (int c = 0; c < 8; c++) {
            int client = c;
            clients.add(pool.submit(() -> {
                Http h = new Http(service.port());
                int n = 0;
                while (System.nanoTime() < end) {
                    try {
                        String q = IndexFixture.COLOURS[(client + n++) % 3] + " " + n; // distinct texts
                        if (h.get("/api/search?k=5&q=" + enc(q)).status() == 200) ok.incrementAndGet();
                        else bad.incrementAndGet();
                    } catch (Exception e) {
                        bad.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : clients) f.get();
        pool.shutdown();
        long heapAfter = usedHeapAfterGc();
        assertThat(bad.get()).as("failed requests").isZero();
        assertThat(ok.get()).isGreaterThan(8);
        assertThat(heapAfter - heapBefore).as("heap growth over the load test, bytes").isLessThan(64L << 20);
        JsonNode stats = http.get("/api/stats").json();
        assertThat(stats.get("model_items").asLong()).as("texts were batched: fewer forward passes than texts")
                .isGreaterThan(stats.get("model_batches").asLong());
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
