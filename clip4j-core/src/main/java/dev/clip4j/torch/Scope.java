package dev.clip4j.torch;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * One native-memory scope per step or batch (pitfall 1): every tensor created while the scope is open
 * is freed when it closes, except those handed back with {@link #keep}. The Java heap holds only tiny
 * wrappers, so the garbage collector alone never frees native tensors in time.
 */
public final class Scope implements AutoCloseable {
    private final PointerScope scope;

    private Scope() {
        Torch.init();
        this.scope = new PointerScope();
    }

    public static Scope open() {
        return new Scope();
    }

    /** Lets {@code p} outlive this scope (it then belongs to the enclosing scope, or to the GC). */
    public <P extends Pointer> P keep(P p) {
        scope.detach(p);
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null && outer != scope) outer.attach(p);
        return p;
    }

    @Override
    public void close() {
        scope.close();
    }
}
