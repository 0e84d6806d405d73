package dev.clip4j.eval;

import java.util.List;

/** Zero-shot classification results: top-1/top-5 as fractions, per-class accuracy, confusion counts [true][predicted]. */
public record ZeroShotResult(String dataset, int examples, double top1, double top5, double chance, List<String> classes,
                             double[] perClassAccuracy, int[][] confusion) {}
