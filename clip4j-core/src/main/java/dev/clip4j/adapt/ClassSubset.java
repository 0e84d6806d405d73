package dev.clip4j.adapt;

import dev.clip4j.data.ClassLabelledDataset;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.image.RasterImage;

import java.util.ArrayList;
import java.util.List;

/**
 * A view of a class-labelled dataset restricted to some classes (relabelled 0..m−1 in the given order) and optionally
 * to some examples: the few-shot training set, a base or new split. Names, synonyms and templates are the source's.
 */
public final class ClassSubset extends ClassLabelledDataset {
    private final ImageTextDataset source;
    private final String name;
    private final int[] indices;
    private final int[] newLabel;

    private ClassSubset(ImageTextDataset source, String name, List<Integer> classes, int[] indices, List<List<String>> synonyms) {
        super(synonyms);
        this.source = source;
        this.name = name;
        this.indices = indices;
        newLabel = new int[source.classNames().size()];
        java.util.Arrays.fill(newLabel, -1);
        for (int i = 0; i < classes.size(); i++) newLabel[classes.get(i)] = i;
    }

    /** Every example of the given classes (original indices), in dataset order. */
    public static ClassSubset of(ImageTextDataset source, List<Integer> classes, String what) {
        boolean[] keep = keep(source, classes);
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < source.size(); i++) {
            int l = source.label(i);
            if (l >= 0 && keep[l]) idx.add(i);
        }
        return new ClassSubset(source, source.name() + what, classes, idx.stream().mapToInt(Integer::intValue).toArray(),
                synonymsOf(source, classes));
    }

    /** The given examples (indices into {@code source}), which must all belong to {@code classes}. */
    public static ClassSubset of(ImageTextDataset source, List<Integer> classes, int[] indices, String what) {
        boolean[] keep = keep(source, classes);
        for (int i : indices) {
            int l = source.label(i);
            if (l < 0 || !keep[l]) throw new IllegalArgumentException("example " + i + " is not of the chosen classes");
        }
        return new ClassSubset(source, source.name() + what, classes, indices.clone(), synonymsOf(source, classes));
    }

    private static boolean[] keep(ImageTextDataset source, List<Integer> classes) {
        int k = source.classNames().size();
        if (k == 0) throw new dev.clip4j.InputException(source.name() + " has no class labels; few-shot adaptation needs them");
        boolean[] keep = new boolean[k];
        for (int c : classes) keep[c] = true;
        return keep;
    }

    private static List<List<String>> synonymsOf(ImageTextDataset source, List<Integer> classes) {
        List<List<String>> all = source instanceof ClassLabelledDataset c ? c.synonyms()
                : source.classNames().stream().map(List::of).toList();
        return classes.stream().map(all::get).toList();
    }

    /** The index in the source of example {@code i}. */
    public int sourceIndex(int i) {
        return indices[i];
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return indices.length;
    }

    @Override
    public RasterImage image(int index) {
        return source.image(indices[index]);
    }

    @Override
    public int label(int index) {
        return newLabel[source.label(indices[index])];
    }

    @Override
    public List<String> templates() {
        return source.templates();
    }
}
