package dev.clip4j.torch;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * The error an int8 linear layer must show against float32, predicted from its two quantization steps: with rounding
 * errors uniform in ±step/2 (variance step²/12) and independent zero-mean x and w, the output's relative RMS error² is
 * s_x²/(12·E[x²]) + E_j[s_j²]/(12·E[w²]), where s_x = (max(x,0) − min(x,0))/255 (or /127 with 7-bit activations) and
 * s_j = max|w_j|/127.5. Tests hold a kernel's measured error within ±20 % of it: well above, and the kernel is wrong
 * (or saturating); well below, and the stated quantization did not happen.
 */
public final class QuantizationError {
    private QuantizationError() {}

    public static double relativeRms(Tensor actual, Tensor expected) {
        return actual.sub(expected).norm().item_double() / expected.norm().item_double();
    }

    /** The predicted relative RMS error of {@code x @ w.T} with w [out, in] per-row int8 and x per-tensor uint8. */
    public static double predicted(Tensor x, Tensor w, boolean sevenBitActivations) {
        double xMax = Math.max(0, x.max().item_double()), xMin = Math.min(0, x.min().item_double());
        double sx = (xMax - xMin) / (sevenBitActivations ? 127 : 255);
        double ex2 = x.pow(new Scalar(2.0)).mean().item_double();
        Tensor sw = Ops.div(w.abs().amax(new long[] {1}, false), 127.5);
        double esw2 = sw.pow(new Scalar(2.0)).mean().item_double();
        double ew2 = w.pow(new Scalar(2.0)).mean().item_double();
        return Math.sqrt(sx * sx / (12 * ex2) + esw2 / (12 * ew2));
    }
}
