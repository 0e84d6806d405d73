package dev.clip4j.model;

import org.bytedeco.pytorch.Tensor;

/** A part of the model: a name prefix into the {@link ParameterStore}, as PyTorch's module paths. */
abstract class Module {
    protected final ParameterStore store;
    protected final String prefix;

    Module(ParameterStore store, String prefix) {
        this.store = store;
        this.prefix = prefix;
    }

    protected Tensor p(String name) {
        return store.get(prefix + name);
    }

    protected Tensor param(String name, Tensor init) {
        return store.parameter(prefix + name, init);
    }

    protected Tensor buffer(String name, Tensor init) {
        return store.buffer(prefix + name, init);
    }
}
