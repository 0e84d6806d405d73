package dev.clip4j.index;

/**
 * One search result.
 *
 * @param image what the index keeps about the image
 * @param score cosine similarity between the query and the image (computed exactly from the stored vectors, also
 *              when the approximate graph found the candidate)
 * @param rank  1 for the best result
 */
public record SearchHit(IndexedImage image, float score, int rank) {
    /** The hit as JSON fields, in this order: rank, path, score, caption (when there is one), size, modified, and sha256 when asked. */
    public java.util.Map<String, Object> fields(boolean withSha256) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("rank", rank);
        m.put("path", image.path());
        m.put("score", score);
        if (!image.caption().isEmpty()) m.put("caption", image.caption());
        m.put("size", image.size());
        m.put("modified", image.modified());
        if (withSha256) m.put("sha256", image.sha256());
        return m;
    }
}
