package dev.clip4j.torch;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;

/**
 * Tensor arithmetic with Java numbers, so code outside {@code torch/} never builds a {@code Scalar} or an
 * {@code Optional} itself. Each {@code Scalar} is native memory owned by the scope open at the call (pitfall 1).
 * Every method is the one libtorch call it names, so results are bit-identical to calling it directly.
 */
public final class Ops {
    private Ops() {}

    /** {@code t * v}. */
    public static Tensor mul(Tensor t, double v) {
        return t.mul(new Scalar(v));
    }

    /** {@code t * v} with an integer scalar (keeps integer tensors integer, as Python's int does). */
    public static Tensor mul(Tensor t, long v) {
        return t.mul(new Scalar(v));
    }

    /** {@code t / v}. */
    public static Tensor div(Tensor t, double v) {
        return t.div(new Scalar(v));
    }

    /** {@code t *= v}. */
    public static Tensor mul_(Tensor t, double v) {
        return t.mul_(new Scalar(v));
    }

    /** {@code t /= v}. */
    public static Tensor div_(Tensor t, double v) {
        return t.div_(new Scalar(v));
    }

    /** {@code t += v}. */
    public static Tensor add_(Tensor t, double v) {
        return t.add_(new Scalar(v));
    }

    /** {@code t += v} with an integer scalar (for integer tensors such as counters). */
    public static Tensor add_(Tensor t, long v) {
        return t.add_(new Scalar(v));
    }

    /** {@code t += alpha * other}. */
    public static Tensor add_(Tensor t, Tensor other, double alpha) {
        return t.add_(other, new Scalar(alpha));
    }

    /** {@code t += value * a * b}. */
    public static Tensor addcmul_(Tensor t, Tensor a, Tensor b, double value) {
        return t.addcmul_(a, b, new Scalar(value));
    }

    /** {@code t += value * a / b}. */
    public static Tensor addcdiv_(Tensor t, Tensor a, Tensor b, double value) {
        return t.addcdiv_(a, b, new Scalar(value));
    }

    /** Every element set to {@code v}. */
    public static Tensor fill_(Tensor t, double v) {
        return t.fill_(new Scalar(v));
    }

    /** {@code t.clamp(min, max)}; null leaves that side open. */
    public static Tensor clamp(Tensor t, Double min, Double max) {
        return t.clamp(opt(min), opt(max));
    }

    /** {@code t.clamp_(min, max)} in place; null leaves that side open. */
    public static Tensor clamp_(Tensor t, Double min, Double max) {
        return t.clamp_(opt(min), opt(max));
    }

    private static ScalarOptional opt(Double v) {
        return v == null ? new ScalarOptional() : new ScalarOptional(new Scalar(v));
    }

    /** {@code t + v}. */
    public static Tensor add(Tensor t, double v) {
        return t.add(new Scalar(v));
    }

    /** {@code t + v} with an integer scalar (integer tensors stay integer). */
    public static Tensor add(Tensor t, long v) {
        return t.add(new Scalar(v));
    }

    /** {@code t % v} (Python's remainder: the sign of v). */
    public static Tensor remainder(Tensor t, long v) {
        return t.remainder(new Scalar(v));
    }

    /** {@code t == v}, elementwise: a bool tensor. */
    public static Tensor eq(Tensor t, long v) {
        return t.eq(new Scalar(v));
    }

    /** {@code t} with {@code v} where {@code mask} (bool, broadcastable) is true. */
    public static Tensor maskedFill(Tensor t, Tensor mask, double v) {
        return t.masked_fill(mask, new Scalar(v));
    }
}
