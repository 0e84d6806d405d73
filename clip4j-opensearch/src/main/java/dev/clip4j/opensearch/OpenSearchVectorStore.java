package dev.clip4j.opensearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.clip4j.index.IndexException;
import dev.clip4j.index.IndexedImage;
import dev.clip4j.index.VectorStore;
import dev.clip4j.io.Sha256;
import org.apache.hc.core5.http.ContentTooLongException;
import org.apache.hc.core5.http.HttpHost;
import org.apache.lucene.util.VectorUtil;
import org.opensearch.client.opensearch.generic.Body;
import org.opensearch.client.opensearch.generic.OpenSearchGenericClient;
import org.opensearch.client.opensearch.generic.Requests;
import org.opensearch.client.opensearch.generic.Response;
import org.opensearch.client.transport.httpclient5.ApacheHttpClient5Options;
import org.opensearch.client.transport.httpclient5.ApacheHttpClient5Transport;
import org.opensearch.client.transport.httpclient5.ApacheHttpClient5TransportBuilder;
import org.opensearch.client.transport.httpclient5.HttpAsyncResponseConsumerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * An index's vectors in an OpenSearch index with the k-NN plugin: a document per image (its metadata and its
 * normalised vector in a {@code knn_vector} field, HNSW through the plugin's pure-Java "lucene" engine, inner-product
 * space), reached through the {@code opensearch-java} client. Graph candidates come back with their vectors and are
 * rescored here with the same dot product as the embedded store, so scores are exact and identical across stores;
 * exact search is the plugin's {@code knn_score} script over every document.
 *
 * <p>The requests are the JSON of OpenSearch's own documentation, sent through the client's generic API: the typed
 * API has no model for {@code knn_vector} mappings, and the JSON keeps each call checkable against those pages.
 *
 * <p>Durability differs from the embedded store: OpenSearch has no multi-document transaction, so a commit is one bulk
 * request (each document written whole or not at all) followed by a refresh; an interrupted build keeps what each
 * committed bulk wrote, and a re-run embeds only what is missing.
 */
final class OpenSearchVectorStore implements VectorStore {
    static final String SCHEME = "opensearch";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PAGE = 1000;
    /** A bulk body is sent before it grows past this, so a large batch never makes one huge request. */
    private static final int MAX_BULK_BYTES = 8 << 20;
    /**
     * The largest reply the transport buffers (so a server, or something posing as one, cannot exhaust the heap): a
     * page of 1,000 512-d vectors as JSON is ~6 MB, 10,000 graph candidates ~60 MB.
     */
    static final int MAX_REPLY_BYTES = 100 << 20;

    private final String base;
    private final String index;
    private final int dimension;
    private final boolean writable;
    private final ApacheHttpClient5Transport transport;
    private final OpenSearchGenericClient client;
    private final StringBuilder bulk = new StringBuilder();

    private OpenSearchVectorStore(String base, String index, int dimension, boolean writable, ApacheHttpClient5Transport transport) {
        this.base = base;
        this.index = index;
        this.dimension = dimension;
        this.writable = writable;
        this.transport = transport;
        this.client = new OpenSearchGenericClient(transport);
    }

    /** {@code opensearch:http://HOST:PORT/INDEX}: the server and the name of the OpenSearch index to use. */
    static OpenSearchVectorStore open(String location, int dimension, boolean writing) {
        IndexException bad = new IndexException("store " + location + ": expected " + SCHEME + ":http://HOST:PORT/INDEX (or https) with a"
                + " lower-case index name of letters, digits, '.', '_' and '-' (at most 200)");
        if (!location.startsWith(SCHEME + ":")) throw bad;
        URI uri;
        try {
            uri = new URI(location.substring(SCHEME.length() + 1));
        } catch (URISyntaxException e) {
            throw bad;
        }
        String path = uri.getPath() == null ? "" : uri.getPath().replaceAll("^/+|/+$", "");
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null || uri.getPort() < 0
                || !path.matches("[a-z0-9][a-z0-9._-]{0,199}") || uri.getQuery() != null || uri.getUserInfo() != null) {
            throw bad;
        }
        String base = uri.getScheme() + "://" + uri.getHost() + ":" + uri.getPort();
        ApacheHttpClient5Options.Builder options = ApacheHttpClient5Options.DEFAULT.toBuilder();
        options.setHttpAsyncResponseConsumerFactory(new HttpAsyncResponseConsumerFactory.HeapBufferedResponseConsumerFactory(MAX_REPLY_BYTES));
        ApacheHttpClient5Transport transport = ApacheHttpClient5TransportBuilder.builder(new HttpHost(uri.getScheme(), uri.getHost(), uri.getPort()))
                .setOptions(options.build()).build();
        OpenSearchVectorStore store = new OpenSearchVectorStore(base, path, dimension, writing, transport);
        try {
            store.prepare(writing);
            return store;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** Creates the OpenSearch index (when writing and it is missing) and checks its vector field's dimension. */
    private void prepare(boolean writing) {
        JsonNode mapping = call("GET", "/" + index + "/_mapping", null, true);
        if (mapping == null) {
            if (!writing) throw new IndexException(where() + ": no such OpenSearch index (was it deleted on the server?)");
            ObjectNode vector = JSON.createObjectNode().put("type", "knn_vector").put("dimension", dimension);
            vector.putObject("method").put("name", "hnsw").put("space_type", "innerproduct").put("engine", "lucene")
                    .putObject("parameters").put("m", 16).put("ef_construction", 100);
            ObjectNode body = JSON.createObjectNode();
            body.putObject("settings").putObject("index").put("knn", true);
            ObjectNode mappings = body.putObject("mappings").put("dynamic", "strict");
            ObjectNode props = mappings.putObject("properties");
            props.putObject("path").put("type", "keyword");
            props.putObject("size").put("type", "long");
            props.putObject("modified").put("type", "long");
            props.putObject("sha256").put("type", "keyword");
            props.putObject("caption").put("type", "text").put("index", false);
            props.set("vector", vector);
            call("PUT", "/" + index, body, false);
            return;
        }
        JsonNode field = mapping.path(index).path("mappings").path("properties").path("vector");
        if (!"knn_vector".equals(field.path("type").asText()) || field.path("dimension").asInt() != dimension) {
            throw new IndexException(where() + ": an OpenSearch index that is not a clip4j store of " + dimension + "-d vectors (its mapping: "
                    + field + ")");
        }
    }

    private String where() {
        return SCHEME + ":" + base + "/" + index;
    }

    /** Sends one request; the parsed answer, or null for a 404 when {@code missingIsNull}; any other error throws. */
    private JsonNode call(String method, String endpoint, Object json, boolean missingIsNull) {
        byte[] body;
        try {
            body = json == null ? null : json instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : JSON.writeValueAsBytes(json);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        String type = json instanceof String ? "application/x-ndjson" : "application/json";
        try (Response r = client.execute(Requests.create(method, endpoint, List.of(), Map.of(), body == null ? null : Body.from(body, type)))) {
            String text = r.getBody().map(Body::bodyAsString).orElse("");
            if (r.getStatus() == 404 && missingIsNull) return null;
            if (r.getStatus() >= 300) {
                throw new IndexException(where() + ": OpenSearch answered " + r.getStatus() + " to " + method + " " + endpoint + ": " + reason(text));
            }
            return text.isEmpty() ? JSON.createObjectNode() : JSON.readTree(text);
        } catch (IOException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof ContentTooLongException) {
                    throw new IndexException(where() + ": OpenSearch's reply to " + method + " " + endpoint + " is larger than "
                            + (MAX_REPLY_BYTES >> 20) + " MB; ask for fewer candidates");
                }
            }
            throw new IndexException("cannot reach OpenSearch at " + base + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
        }
    }

    private static String reason(String text) {
        try {
            JsonNode n = JSON.readTree(text);
            JsonNode cause = n.path("error").path("root_cause").path(0);
            if (cause.has("reason")) return cause.path("type").asText() + ": " + cause.path("reason").asText();
            if (n.path("error").has("reason")) return n.path("error").path("reason").asText();
        } catch (IOException | RuntimeException ignored) {
            // not JSON: fall through to the raw text
        }
        return text.length() > 300 ? text.substring(0, 300) + "…" : text;
    }

    @Override
    public int dimension() {
        return dimension;
    }

    @Override
    public synchronized long size() {
        return call("GET", "/" + index + "/_count", null, false).path("count").asLong();
    }

    @Override
    public synchronized Map<String, IndexedImage> entries() {
        Map<String, IndexedImage> out = new HashMap<>();
        scan(false, (image, vector) -> out.put(image.path(), image));
        return out;
    }

    @Override
    public synchronized void forEach(BiConsumer<IndexedImage, float[]> action) {
        scan(true, action);
    }

    /** Every document in path order, a page at a time ({@code search_after} on the path keyword). */
    private void scan(boolean withVectors, BiConsumer<IndexedImage, float[]> action) {
        String after = null;
        while (true) {
            ObjectNode q = JSON.createObjectNode().put("size", PAGE);
            q.putArray("sort").addObject().put("path", "asc");
            if (!withVectors) q.putObject("_source").putArray("excludes").add("vector");
            if (after != null) q.putArray("search_after").add(after);
            JsonNode hits = call("POST", "/" + index + "/_search", q, false).path("hits").path("hits");
            for (JsonNode h : hits) action.accept(image(h.path("_source")), withVectors ? vector(h.path("_source")) : null);
            if (hits.size() < PAGE) return;
            after = hits.get(hits.size() - 1).path("sort").path(0).asText();
        }
    }

    private static IndexedImage image(JsonNode s) {
        return new IndexedImage(s.path("path").asText(), s.path("size").asLong(), s.path("modified").asLong(), s.path("sha256").asText(),
                s.path("caption").asText(""));
    }

    private float[] vector(JsonNode s) {
        JsonNode v = s.path("vector");
        if (!v.isArray() || v.size() != dimension) throw new IndexException(where() + ": a document without a " + dimension + "-d vector: " + s.path("path"));
        float[] out = new float[dimension];
        for (int i = 0; i < dimension; i++) out[i] = v.get(i).floatValue();
        return out;
    }

    @Override
    public synchronized float[] vector(String path) {
        JsonNode doc = call("GET", "/" + index + "/_doc/" + id(path), null, true);
        return doc == null || !doc.path("found").asBoolean() ? null : vector(doc.path("_source"));
    }

    @Override
    public synchronized List<Scored> nearest(float[] query, int candidates, boolean exact) {
        if (query.length != dimension) throw new IndexException("a query of " + query.length + " dimensions for an index of " + dimension);
        ObjectNode q = JSON.createObjectNode().put("size", candidates);
        ArrayNode values = JSON.createArrayNode();
        for (float x : query) values.add(x);
        if (exact) {
            ObjectNode script = q.putObject("query").putObject("script_score");
            script.putObject("query").putObject("match_all");
            ObjectNode s = script.putObject("script").put("source", "knn_score").put("lang", "knn");
            s.putObject("params").put("field", "vector").put("space_type", "innerproduct").set("query_value", values);
        } else {
            q.putObject("query").putObject("knn").putObject("vector").put("k", candidates).set("vector", values);
        }
        List<Scored> out = new ArrayList<>();
        for (JsonNode h : call("POST", "/" + index + "/_search", q, false).path("hits").path("hits")) {
            float[] v = vector(h.path("_source"));
            out.add(new Scored(image(h.path("_source")), v, VectorUtil.dotProduct(query, v)));
        }
        out.sort(Comparator.comparingDouble((Scored s) -> -s.score()).thenComparing(s -> s.image().path()));
        return out;
    }

    @Override
    public synchronized void put(IndexedImage image, float[] vector) {
        requireWritable();
        if (vector.length != dimension) throw new IndexException(image.path() + ": a vector of " + vector.length + " dimensions for an index of " + dimension);
        ObjectNode doc = JSON.createObjectNode().put("path", image.path()).put("size", image.size()).put("modified", image.modified())
                .put("sha256", image.sha256());
        if (!image.caption().isEmpty()) doc.put("caption", image.caption());
        ArrayNode v = doc.putArray("vector");
        for (float x : vector) v.add(x);
        append("{\"index\":{\"_id\":\"" + id(image.path()) + "\"}}\n" + doc + "\n");
    }

    @Override
    public synchronized void remove(String path) {
        requireWritable();
        append("{\"delete\":{\"_id\":\"" + id(path) + "\"}}\n");
    }

    private void append(String lines) {
        if (bulk.length() + lines.length() > MAX_BULK_BYTES && bulk.length() > 0) send(false);
        bulk.append(lines);
    }

    /** Sends the buffered bulk; a failed item (other than deleting what is not there) is an error naming it. */
    private void send(boolean refresh) {
        if (bulk.length() == 0) {
            if (refresh) call("POST", "/" + index + "/_refresh", null, false);
            return;
        }
        JsonNode r = call("POST", "/" + index + "/_bulk" + (refresh ? "?refresh=true" : ""), bulk.toString(), false);
        bulk.setLength(0);
        if (r.path("errors").asBoolean()) {
            for (JsonNode item : r.path("items")) {
                JsonNode op = item.elements().next();
                if (op.path("status").asInt() >= 300 && !(item.has("delete") && op.path("status").asInt() == 404)) {
                    throw new IndexException(where() + ": OpenSearch refused a document: " + op.path("error").path("reason").asText(op.toString()));
                }
            }
        }
    }

    @Override
    public synchronized void commit() {
        requireWritable();
        send(true);
    }

    private void requireWritable() {
        if (!writable) throw new IllegalStateException(where() + " is open for reading only");
    }

    /** Document ids are the SHA-256 of the path: OpenSearch caps ids at 512 bytes, paths can be longer. */
    static String id(String path) {
        return Sha256.hex(path.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public synchronized void close() {
        bulk.setLength(0); // uncommitted changes are dropped, as with the embedded store
        try {
            transport.close();
        } catch (IOException ignored) {
            // closing a connection pool: nothing to recover
        }
    }
}
