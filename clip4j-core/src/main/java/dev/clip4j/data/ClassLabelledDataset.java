package dev.clip4j.data;

import java.util.List;
import java.util.SplittableRandom;

/** Common part of class-labelled datasets: captions from templates and per-class synonym lists. */
public abstract class ClassLabelledDataset implements ImageTextDataset {
    private final List<List<String>> synonyms;

    protected ClassLabelledDataset(List<List<String>> synonyms) {
        this.synonyms = synonyms;
    }

    @Override
    public String caption(int index, SplittableRandom rng) {
        return Prompts.caption(synonyms.get(label(index)), templates(), rng);
    }

    @Override
    public List<String> classNames() {
        return synonyms.stream().map(s -> s.get(0)).toList();
    }

    /** Every name of every class (for prompt ensembling at evaluation). */
    public List<List<String>> synonyms() {
        return synonyms;
    }
}
