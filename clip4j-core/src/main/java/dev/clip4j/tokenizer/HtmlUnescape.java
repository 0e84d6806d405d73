package dev.clip4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Python's {@code html.unescape}, exactly: HTML5 named references (2,231 of them, some valid without the
 * semicolon, matched longest-prefix first), decimal and hex references with the HTML5 replacement table
 * for invalid code points. Hand-written because no Java library implements the HTML5 rules as Python does
 * (commons-text knows only HTML4 and requires the semicolon); the entity table is Python's, a resource.
 */
final class HtmlUnescape {
    private static final Pattern CHARREF =
            Pattern.compile("&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\\t\\n\\f <&#;]{1,32};?)");
    private static final Map<String, String> HTML5 = new HashMap<>();
    private static final Map<Integer, String> INVALID_CHARREFS = new HashMap<>();
    private static final Set<Integer> INVALID_CODEPOINTS = new HashSet<>();
    private static final BigInteger MAX_CODE_POINT = BigInteger.valueOf(0x10FFFF);

    static {
        try (InputStream in = HtmlUnescape.class.getResourceAsStream("html_entities.json")) {
            JsonNode root = new ObjectMapper().readTree(in);
            root.get("html5").fields().forEachRemaining(e -> HTML5.put(e.getKey(), e.getValue().asText()));
            root.get("invalid_charrefs").fields().forEachRemaining(
                    e -> INVALID_CHARREFS.put(Integer.parseInt(e.getKey()), e.getValue().asText()));
            root.get("invalid_codepoints").forEach(n -> INVALID_CODEPOINTS.add(n.asInt()));
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("missing resource html_entities.json", e);
        }
    }

    private HtmlUnescape() {}

    static String unescape(String s) {
        if (s.indexOf('&') < 0) return s;
        Matcher m = CHARREF.matcher(s);
        StringBuilder out = new StringBuilder(s.length());
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(replace(m.group(1))));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String replace(String s) {
        if (s.charAt(0) == '#') {
            BigInteger num;
            if (s.length() > 1 && (s.charAt(1) == 'x' || s.charAt(1) == 'X')) {
                num = new BigInteger(stripSemicolon(s.substring(2)), 16);
            } else {
                num = new BigInteger(stripSemicolon(s.substring(1)));
            }
            if (num.compareTo(MAX_CODE_POINT) > 0) return "\uFFFD";
            int cp = num.intValue();
            String invalid = INVALID_CHARREFS.get(cp);
            if (invalid != null) return invalid;
            if (cp >= 0xD800 && cp <= 0xDFFF) return "\uFFFD";
            if (INVALID_CODEPOINTS.contains(cp)) return "";
            return new String(Character.toChars(cp));
        }
        String named = HTML5.get(s);
        if (named != null) return named;
        // Longest matching prefix, as the HTML5 standard defines for references without a semicolon.
        int[] cps = s.codePoints().toArray();
        for (int x = cps.length - 1; x > 1; x--) {
            String prefix = new String(cps, 0, x);
            String value = HTML5.get(prefix);
            if (value != null) return value + new String(cps, x, cps.length - x);
        }
        return "&" + s;
    }

    private static String stripSemicolon(String s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == ';') end--;
        return s.substring(0, end);
    }
}
