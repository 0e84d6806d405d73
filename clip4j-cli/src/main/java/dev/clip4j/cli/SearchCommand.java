package dev.clip4j.cli;

import dev.clip4j.image.ImageInput;
import dev.clip4j.index.ImageIndex;
import dev.clip4j.index.SearchHit;
import dev.clip4j.index.SearchOptions;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "search", description = "Search an index by a sentence or by an image: the top k by cosine, with scores.")
final class SearchCommand implements Callable<Integer> {
    @Option(names = "--index", required = true, description = "The index directory (index build).")
    Path index;

    static final class Query {
        @Option(names = "--text", description = "A sentence to search for.")
        String text;

        @Option(names = "--image", description = "An image file to search by.")
        Path image;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Query query;

    @Option(names = "--k", defaultValue = "10", description = "Results (default ${DEFAULT-VALUE}, at most " + SearchOptions.MAX_K + ").")
    int k;

    @Option(names = "--min-score", description = "Drop results under this cosine.")
    Double minScore;

    @Option(names = "--dedup", description = "Collapse near-duplicates: drop a result whose cosine with a better one is at least this (e.g. 0.94).")
    Double dedup;

    @Option(names = "--template", description = "Prompt template for --text, {} replaced by the text (e.g. \"a photo of {}.\").")
    String template;

    @Option(names = "--exact", description = "Brute force over every vector (the default above " + SearchOptions.EXACT_BELOW
            + " vectors is the HNSW graph).")
    boolean exact;

    @Option(names = "--candidates", defaultValue = "" + SearchOptions.DEFAULT_CANDIDATES,
            description = "Graph candidates rescored exactly (HNSW ef; default ${DEFAULT-VALUE}).")
    int candidates;

    @Option(names = "--model", description = "The model, if it moved since the build (it must be the same weights).")
    Path model;

    @Option(names = "--json", description = "JSON Lines: one {\"rank\", \"path\", \"score\", ...} per result.")
    boolean json;

    @Mixin
    CommonOptions.Threads threads;

    @Mixin
    CommonOptions.InferenceBackend backend;

    @Override
    public Integer call() {
        if (k < 1 || k > SearchOptions.MAX_K) throw new UserError("--k must be 1 to " + SearchOptions.MAX_K + ", got " + k);
        if (candidates < 1 || candidates > 100_000) throw new UserError("--candidates must be 1 to 100000, got " + candidates);
        if (minScore != null && (!Double.isFinite(minScore) || minScore > 1)) throw new UserError("--min-score must be a cosine (at most 1), got " + minScore);
        if (dedup != null && (!(dedup > 0) || dedup > 1)) throw new UserError("--dedup must be a cosine in (0, 1], got " + dedup);
        if (template != null && query.text == null) throw new UserError("--template applies to --text only");
        threads.apply();
        // one query, at the index's precision: an int8 index's on ONNX Runtime, as auto runs int8 everywhere (an image
        // query 4.0-4.6 s at ~640 MB against 4.8 s at ~830 MB on libtorch, which quantizes its tower for FBGEMM)
        boolean int8 = dev.clip4j.Precision.explicit(dev.clip4j.index.IndexManifest.read(index.toAbsolutePath().normalize()).precision())
                == dev.clip4j.Precision.INT8;
        backend.apply(query.image != null ? 1 : 0, query.text != null ? 1 : 0, int8);
        SearchOptions o = SearchOptions.top(k).withCandidates(candidates);
        if (minScore != null) o = o.withMinScore(minScore.floatValue());
        if (dedup != null) o = o.withDedup(dedup.floatValue());
        if (exact) o = o.withMethod(SearchOptions.Method.EXACT);
        // one query: only its tower is read (the model is still checked against the index by all its weights' hash)
        dev.clip4j.model.Towers tower = query.text != null ? dev.clip4j.model.Towers.TEXT : dev.clip4j.model.Towers.IMAGE;
        try (ImageIndex idx = ImageIndex.open(index, model, dev.clip4j.onnx.OnnxThreads.SPIN, tower)) {
            List<SearchHit> hits = query.text != null ? idx.search(query.text, template, o) : idx.search(ImageInput.of(query.image), o);
            for (SearchHit h : hits) {
                if (json) System.out.println(Json.write(h.fields(true)));
                else System.out.printf("%3d  %.4f  %s%s%n", h.rank(), h.score(), h.image().path(),
                        h.image().caption().isEmpty() ? "" : "  \"" + h.image().caption() + "\"");
            }
            if (hits.isEmpty() && !json) System.err.println("no results" + (minScore != null ? " at or above --min-score " + minScore : ""));
        }
        return 0;
    }

}
