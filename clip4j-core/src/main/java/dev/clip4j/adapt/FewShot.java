package dev.clip4j.adapt;

import dev.clip4j.InputException;
import dev.clip4j.data.ImageTextDataset;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** K images per class, drawn reproducibly: the training set of every few-shot method. */
public final class FewShot {
    private FewShot() {}

    /**
     * {@code shots} examples of each of {@code classes} (original indices), the same for the same seed: each class's
     * examples are shuffled by a generator seeded from ({@code seed}, class) and the first K kept, so adding a class
     * never changes another class's shots. A class with fewer than K images is an error naming it.
     */
    public static ClassSubset sample(ImageTextDataset data, List<Integer> classes, int shots, long seed) {
        if (shots < 1) throw new InputException("--shots must be at least 1, got " + shots);
        int k = data.classNames().size();
        if (k == 0) throw new InputException(data.name() + " has no class labels; few-shot adaptation needs them");
        List<List<Integer>> byClass = new ArrayList<>();
        for (int c = 0; c < k; c++) byClass.add(new ArrayList<>());
        for (int i = 0; i < data.size(); i++) {
            int l = data.label(i);
            if (l >= 0) byClass.get(l).add(i);
        }
        int[] out = new int[classes.size() * shots];
        int at = 0;
        for (int c : classes) {
            List<Integer> pool = byClass.get(c);
            if (pool.size() < shots) {
                throw new InputException("class '" + data.classNames().get(c) + "' of " + data.name() + " has only "
                        + pool.size() + " image" + (pool.size() == 1 ? "" : "s") + "; --shots " + shots + " needs " + shots + " per class");
            }
            int[] order = pool.stream().mapToInt(Integer::intValue).toArray();
            SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + c);
            for (int i = order.length - 1; i > 0; i--) { // Fisher–Yates
                int j = rng.nextInt(i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int s = 0; s < shots; s++) out[at++] = order[s];
        }
        return ClassSubset.of(data, classes, out, "[" + shots + "-shot, seed " + seed + "]");
    }
}
