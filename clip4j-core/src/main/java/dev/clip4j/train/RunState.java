package dev.clip4j.train;

/** Where a run stands: what a checkpoint records besides the weights and the optimizer moments. */
public record RunState(long step, long totalSteps, int epoch, int batchInEpoch, double elapsedSeconds, long samplesSeen) {}
