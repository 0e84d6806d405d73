package dev.clip4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.clip4j.tokenizer.ClipTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "tokenize", description = "Print clip.tokenize(text) as one JSON array per text.")
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--context-length", defaultValue = "77", description = "Tokens per row (default ${DEFAULT-VALUE}).")
    int contextLength;

    @Option(names = "--no-truncate", description = "Fail on a text longer than the context (truncate=False).")
    boolean noTruncate;

    @Option(names = "--input", description = "A JSON file holding an array of strings.")
    Path input;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Texts to tokenize.")
    List<String> texts = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        List<String> all = new ArrayList<>(texts);
        if (input != null) all.addAll(readStrings(input));
        long maxContext = dev.clip4j.io.InputLimits.MAX_CONTEXT_LENGTH.get();
        if (contextLength < 2 || contextLength > maxContext) {
            throw new UserError("--context-length must be 2 to " + maxContext + ", got " + contextLength + " ("
                    + dev.clip4j.io.InputLimits.MAX_CONTEXT_LENGTH.hint() + ")");
        }
        ClipTokenizer tok = ClipTokenizer.getDefault();
        PrintStream out = System.out;
        StringBuilder sb = new StringBuilder();
        for (String t : all) {
            long[] row;
            try {
                row = tok.tokenize(t, contextLength, !noTruncate);
            } catch (ClipTokenizer.TextTooLongException e) {
                out.flush();
                throw new UserError(e.getMessage());
            }
            sb.setLength(0);
            sb.append('[');
            for (int i = 0; i < row.length; i++) sb.append(i == 0 ? "" : ", ").append(row[i]);
            out.println(sb.append(']'));
        }
        out.flush();
        return 0;
    }

    static List<String> readStrings(Path file) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new UserError(file + ": not readable JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null || !root.isArray()) throw new UserError(file + ": expected a JSON array of strings");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            if (!root.get(i).isTextual()) throw new UserError(file + ": element " + i + " is not a string");
            out.add(root.get(i).asText());
        }
        return out;
    }
}
