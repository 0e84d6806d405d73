package dev.clip4j.adapt;

import dev.clip4j.InputException;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * CoCoOp's base-to-new protocol: the classes in label order, {@code base} the first ⌈n/2⌉ and {@code new} the rest
 * (as CoCoOp's {@code subsample_classes}), so prompts can be learned on base classes and scored on unseen ones.
 */
public enum ClassSplit {
    ALL, BASE, NEW;

    /** The original class indices of this split among {@code total} classes, in order. */
    public List<Integer> classes(int total) {
        int m = (total + 1) / 2;
        int from = this == NEW ? m : 0, to = this == BASE ? m : total;
        List<Integer> out = new ArrayList<>();
        for (int c = from; c < to; c++) out.add(c);
        return out;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ClassSplit parse(String s) {
        for (ClassSplit c : values()) if (c.id().equals(s)) return c;
        throw new InputException("--classes must be base, new or all, got '" + s + "'");
    }
}
