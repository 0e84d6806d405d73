package dev.clip4j.opensearch;

import com.sun.net.httpserver.HttpServer;
import dev.clip4j.index.IndexException;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Against a fake server (no OpenSearch needed): hostile replies and bad locations are clear errors. */
class OpenSearchReplyLimitTest {
    private static final String MAPPING = "{\"x\":{\"mappings\":{\"properties\":{\"vector\":{\"type\":\"knn_vector\",\"dimension\":4}}}}}";

    @Test
    void aHugeReplyIsRefusedAtTheLimitNotReadWhole() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        long[] sent = new long[1];
        server.createContext("/x/_mapping", ex -> {
            byte[] b = MAPPING.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.createContext("/x/_search", ex -> { // an endless reply: stops only when the client hangs up
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, 0);
            byte[] chunk = new byte[1 << 16];
            java.util.Arrays.fill(chunk, (byte) ' ');
            try (OutputStream out = ex.getResponseBody()) {
                out.write('[');
                while (sent[0] < 4L * OpenSearchVectorStore.MAX_REPLY_BYTES) {
                    out.write(chunk);
                    sent[0] += chunk.length;
                }
            } catch (java.io.IOException hungUp) {
                // the client stopped reading: what we want
            }
        });
        server.start();
        try (OpenSearchVectorStore store = OpenSearchVectorStore.open("opensearch:http://127.0.0.1:" + server.getAddress().getPort() + "/x", 4, false)) {
            assertThatThrownBy(() -> store.nearest(new float[] {1, 0, 0, 0}, 10, false))
                    .isInstanceOf(IndexException.class).hasMessageContaining("larger than 100 MB");
        } finally {
            server.stop(0);
        }
        assertThat(sent[0]).isLessThan(4L * OpenSearchVectorStore.MAX_REPLY_BYTES);
    }

    @Test
    void aForeignIndexAndBadLocationsAreRefused() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/x/_mapping", ex -> {
            byte[] b = MAPPING.replace("4", "8").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.start();
        try {
            String base = "opensearch:http://127.0.0.1:" + server.getAddress().getPort();
            assertThatThrownBy(() -> OpenSearchVectorStore.open(base + "/x", 4, true))
                    .isInstanceOf(IndexException.class).hasMessageContaining("not a clip4j store of 4-d vectors");
            assertThatThrownBy(() -> OpenSearchVectorStore.open(base + "/y", 4, false))
                    .isInstanceOf(IndexException.class).hasMessageContaining("no such OpenSearch index");
        } finally {
            server.stop(0);
        }
        for (String bad : new String[] {"opensearch:x", "opensearch:ftp://h:1/x", "opensearch:http://h/x", "opensearch:http://h:1/",
                "opensearch:http://h:1/UPPER", "opensearch:http://u:p@h:1/x", "opensearch:http://h:1/x?q=1"}) {
            assertThatThrownBy(() -> OpenSearchVectorStore.open(bad, 4, false)).as(bad)
                    .isInstanceOf(IndexException.class).hasMessageContaining("expected opensearch:http://HOST:PORT/INDEX");
        }
    }
}
