package dev.clip4j.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.IntFunction;

/** {@code nn.ModuleList}: children named {@code 0, 1, ...} (so OpenAI's {@code resblocks.3.attn...} names hold). */
public final class ModuleList<M extends Module> extends Module {
    private final List<M> items = new ArrayList<>();
    private final IntFunction<M> make;

    /** {@code count} modules, the i-th built by {@code make.apply(i)} (in order, so initialisation draws stay in order). */
    public ModuleList(int count, IntFunction<M> make) {
        this.make = make;
        for (int i = 0; i < count; i++) items.add(child(Integer.toString(i), make.apply(i)));
    }

    public M get(int i) {
        return items.get(i);
    }

    public int size() {
        return items.size();
    }

    public List<M> items() {
        return Collections.unmodifiableList(items);
    }

    @Override
    protected Module blank() {
        return new ModuleList<>(items.size(), make);
    }
}
