package dev.clip4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClipTokenizerTest {
    private static final ClipTokenizer TOKENIZER = ClipTokenizer.getDefault();

    static Stream<Arguments> cases() throws IOException {
        JsonNode root = new ObjectMapper().readTree(Fixtures.path("tokenizer/cases.json").toFile());
        List<Arguments> out = new ArrayList<>();
        int i = 0;
        for (JsonNode c : root) out.add(Arguments.of(i++, c));
        return out.stream();
    }

    private static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asInt();
        return out;
    }

    @ParameterizedTest(name = "case {0}")
    @MethodSource("cases")
    void matchesReference(int index, JsonNode c) {
        String text = c.get("text").asText();
        int[] ids = TOKENIZER.encode(text);
        assertThat(ids).as("ids of %s", text).containsExactly(ints(c.get("ids")));
        long[] row = TOKENIZER.tokenize(text, 77, true);
        int[] expected = ints(c.get("tokenized"));
        assertThat(row).hasSize(77);
        for (int i = 0; i < 77; i++) assertThat(row[i]).as("position %d of %s", i, text).isEqualTo(expected[i]);
        assertThat(TOKENIZER.decode(ids)).isEqualTo(c.get("decoded").asText());
        if (c.get("truncated").asBoolean()) {
            assertThatThrownBy(() -> TOKENIZER.tokenize(text, 77, false))
                    .isInstanceOf(ClipTokenizer.TextTooLongException.class)
                    .hasMessageContaining("too long for context length 77");
        } else {
            assertThat(TOKENIZER.tokenize(text, 77, false)).containsExactly(row);
        }
    }

    @Test
    void vocabularyHasOpenAiSize() {
        assertThat(TOKENIZER.vocabSize()).isEqualTo(49408);
    }

    @Test
    void shortContextKeepsEndOfTextLast() {
        long[] row = TOKENIZER.tokenize("a photo of a very very very big dog", 5, true);
        assertThat(row[0]).isEqualTo(ClipTokenizer.SOT);
        assertThat(row[4]).isEqualTo(ClipTokenizer.EOT);
        assertThat(row[1]).isNotZero();
    }
}
