package dev.clip4j.adapt;

import dev.clip4j.InputException;

import java.util.Locale;

/** Where CoOp puts the class-name tokens among the context vectors ({@code class_token_position}). */
public enum ClassPosition {
    /** {@code [SOS][ctx 1..n][class][.][EOS]}: CoOp's default. */
    END,
    /** {@code [SOS][ctx 1..n/2][class][ctx n/2+1..n][.][EOS]}. */
    MIDDLE,
    /** {@code [SOS][class][ctx 1..n][.][EOS]}. */
    FRONT;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ClassPosition parse(String s) {
        for (ClassPosition p : values()) if (p.id().equals(s)) return p;
        throw new InputException("--class-position must be end, middle or front, got '" + s + "'");
    }
}
