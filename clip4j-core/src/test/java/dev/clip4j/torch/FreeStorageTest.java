package dev.clip4j.torch;

import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Pitfall 14: closing a tensor leaves a shared storage alive; {@link Tensors#freeStorage} frees it for every sharer. */
class FreeStorageTest {
    @Test
    void freesTheStorageEvenWhereAnotherTensorSharesIt() {
        try (Scope s = Scope.open()) {
            Tensor init = Tensors.randn(256, 256);
            Tensor parameter = init.detach(); // as Module.parameter registers it
            assertThat(init.storage().nbytes()).isEqualTo(256L * 256 * 4);
            Tensors.freeStorage(parameter);
            assertThat(parameter.numel()).isZero();
            assertThat(init.storage().nbytes()).as("the shared storage itself is emptied").isZero();
        }
    }

    @Test
    void onlyATensorSpanningItsWholeStorageOwnsIt() {
        try (Scope s = Scope.open()) {
            Tensor whole = Tensors.randn(4, 8);
            assertThat(Tensors.ownsItsStorage(whole)).isTrue();
            assertThat(Tensors.ownsItsStorage(whole.narrow(0, 1, 2))).as("a view at an offset").isFalse();
            assertThat(Tensors.ownsItsStorage(whole.narrow(0, 0, 2))).as("a view of part").isFalse();
            assertThat(Tensors.ownsItsStorage(whole.t())).as("not contiguous").isFalse();
        }
    }
}
