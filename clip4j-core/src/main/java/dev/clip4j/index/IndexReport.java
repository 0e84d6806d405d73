package dev.clip4j.index;

import java.util.List;

/**
 * What a build or update did.
 *
 * @param listed    images the sources list
 * @param embedded  images embedded by this run
 * @param reused    images whose bytes the index already held (touched, renamed or copied files): not embedded again
 * @param unchanged images skipped because their size and time are as indexed
 * @param removed   entries removed because their file is gone from the sources
 * @param skipped   files that could not be read or decoded, with the reason (also in the index's skipped.tsv)
 * @param size      entries in the index afterwards
 */
public record IndexReport(int listed, int embedded, int reused, int unchanged, int removed, List<IndexSource.Skipped> skipped, long size) {}
