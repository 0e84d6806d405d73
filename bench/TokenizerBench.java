import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.tokenizer.ClipTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** clip4j's tokenizer over the benchmark corpus (one JSON string per line). Run by bench/run.sh. */
public class TokenizerBench {
    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> texts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0]))) texts.add(json.readValue(line, String.class));
        ClipTokenizer tok = ClipTokenizer.getDefault();
        long sink = 0;
        double[] rates = new double[20];
        for (int rep = 0; rep < 25; rep++) { // 5 passes fill the BPE cache and warm up the JIT, 20 are timed
            long t0 = System.nanoTime();
            for (String t : texts) sink += tok.tokenize(t, 77, true)[1];
            if (rep >= 5) rates[rep - 5] = texts.size() / ((System.nanoTime() - t0) / 1e9);
        }
        java.util.Arrays.sort(rates);
        System.out.printf("{\"peer\": \"clip4j tokenizer\", \"texts\": %d, \"texts_per_sec_median\": %.1f, "
                + "\"texts_per_sec_best\": %.1f, \"checksum\": %d}%n", texts.size(), (rates[9] + rates[10]) / 2, rates[19], sink);
    }
}
