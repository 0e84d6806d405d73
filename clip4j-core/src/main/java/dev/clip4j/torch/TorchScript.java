package dev.clip4j.torch;

import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NamedTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.named_buffer_iterator;
import org.bytedeco.pytorch.named_buffer_list;
import org.bytedeco.pytorch.named_parameter_iterator;
import org.bytedeco.pytorch.named_parameter_list;
import org.bytedeco.pytorch.global.torch;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads the tensors of a TorchScript archive ({@code torch.jit.save}), e.g. OpenAI's released {@code .pt} files. */
public final class TorchScript {
    private TorchScript() {}

    /**
     * Every parameter and buffer of the archive's module tree, by dotted name, as independent tensors. The
     * archive's code is not run; libtorch only deserialises it.
     */
    public static Map<String, Tensor> namedTensors(Path file) {
        Torch.init();
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (Scope scope = Scope.open()) {
            JitModule module = torch.load(file.toString());
            named_parameter_list params = module.named_parameters(true);
            for (named_parameter_iterator it = params.begin(); it.notEquals(params.end()); it = it.increment()) {
                NamedTensor nt = it.access();
                // Pitfall 2: the value is owned by the module, which this scope frees; clone our own copy.
                out.put(nt.name().getString(), scope.keep(nt.value().detach().clone()));
            }
            named_buffer_list buffers = module.named_buffers(true);
            for (named_buffer_iterator it = buffers.begin(); it.notEquals(buffers.end()); it = it.increment()) {
                NamedTensor nt = it.access();
                out.put(nt.name().getString(), scope.keep(nt.value().detach().clone()));
            }
        }
        return out;
    }
}
