package dev.clip4j.torch;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * One native-memory scope per step or batch (pitfall 1): every tensor created while the scope is open
 * is freed when it closes, except those handed back with {@link #keep}. The Java heap holds only tiny
 * wrappers, so the garbage collector alone never frees native tensors in time.
 */
public final class Scope implements AutoCloseable {
    private final PointerScope outer;
    private final PointerScope scope;

    private Scope() {
        Torch.init();
        this.outer = PointerScope.getInnerScope();
        this.scope = new PointerScope();
    }

    public static Scope open() {
        return new Scope();
    }

    /**
     * Lets {@code p} outlive this scope: it then belongs to the enclosing scope, or, with none, to the garbage
     * collector. (JavaCPP's {@code detach} releases a reference and would free it on the spot, so we add one.)
     */
    public <P extends Pointer> P keep(P p) {
        if (outer != null) outer.attach(p);
        else p.retainReference();
        return p;
    }

    /** Makes {@code p} independent of every open scope (for tensors as long-lived as a model). */
    public static <P extends Pointer> P escape(P p) {
        if (PointerScope.getInnerScope() != null) p.retainReference();
        return p;
    }

    @Override
    public void close() {
        scope.close();
    }
}
