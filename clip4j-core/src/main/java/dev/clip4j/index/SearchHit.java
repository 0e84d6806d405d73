package dev.clip4j.index;

/**
 * One search result.
 *
 * @param image what the index keeps about the image
 * @param score cosine similarity between the query and the image (computed exactly from the stored vectors, also
 *              when the approximate graph found the candidate)
 * @param rank  1 for the best result
 */
public record SearchHit(IndexedImage image, float score, int rank) {}
