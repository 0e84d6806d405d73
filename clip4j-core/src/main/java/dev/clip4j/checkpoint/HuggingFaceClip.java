package dev.clip4j.checkpoint;

import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renames a Hugging Face {@code CLIPModel} state dict to OpenAI's names: q/k/v projections packed into
 * {@code in_proj_weight}, projections transposed, {@code pre_layrnorm} (sic) to {@code ln_pre}.
 */
public final class HuggingFaceClip {
    private static final Pattern LAYER = Pattern.compile("(text|vision)_model\\.encoder\\.layers\\.(\\d+)\\.(.+)");

    private HuggingFaceClip() {}

    public static boolean looksLikeHuggingFace(Map<String, ?> keys) {
        return keys.keySet().stream().anyMatch(k -> k.startsWith("vision_model.") || k.startsWith("text_model."));
    }

    /** The same tensors under OpenAI's names; nothing is read until a renamed tensor is ({@link StoredTensor}). */
    public static Map<String, StoredTensor> toOpenAi(Map<String, StoredTensor> hf, String origin) {
        Map<String, StoredTensor> out = new LinkedHashMap<>();
        Map<String, StoredTensor[]> qkv = new LinkedHashMap<>();
        for (Map.Entry<String, StoredTensor> e : hf.entrySet()) {
            String k = e.getKey();
            StoredTensor t = e.getValue();
            Matcher m = LAYER.matcher(k);
            if (m.matches()) {
                String base = (m.group(1).equals("text") ? "" : "visual.") + "transformer.resblocks." + m.group(2) + ".";
                String rest = m.group(3);
                Matcher proj = Pattern.compile("self_attn\\.([qkv])_proj\\.(weight|bias)").matcher(rest);
                if (proj.matches()) {
                    String key = base + "attn.in_proj_" + proj.group(2);
                    qkv.computeIfAbsent(key, x -> new StoredTensor[3])["qkv".indexOf(proj.group(1))] = t;
                    continue;
                }
                String mapped = rest.replace("self_attn.out_proj.", "attn.out_proj.")
                        .replace("layer_norm1.", "ln_1.").replace("layer_norm2.", "ln_2.")
                        .replace("mlp.fc1.", "mlp.c_fc.").replace("mlp.fc2.", "mlp.c_proj.");
                out.put(base + mapped, t);
                continue;
            }
            String mapped = switch (k) {
                case "text_model.embeddings.token_embedding.weight" -> "token_embedding.weight";
                case "text_model.embeddings.position_embedding.weight" -> "positional_embedding";
                case "text_model.final_layer_norm.weight" -> "ln_final.weight";
                case "text_model.final_layer_norm.bias" -> "ln_final.bias";
                case "vision_model.embeddings.class_embedding" -> "visual.class_embedding";
                case "vision_model.embeddings.patch_embedding.weight" -> "visual.conv1.weight";
                case "vision_model.embeddings.position_embedding.weight" -> "visual.positional_embedding";
                case "vision_model.pre_layrnorm.weight" -> "visual.ln_pre.weight";
                case "vision_model.pre_layrnorm.bias" -> "visual.ln_pre.bias";
                case "vision_model.post_layernorm.weight" -> "visual.ln_post.weight";
                case "vision_model.post_layernorm.bias" -> "visual.ln_post.bias";
                case "logit_scale" -> "logit_scale";
                default -> null;
            };
            if (k.equals("text_projection.weight")) {
                out.put("text_projection", transposed(t, k, origin));
            } else if (k.equals("visual_projection.weight")) {
                out.put("visual.proj", transposed(t, k, origin));
            } else if (mapped != null) {
                out.put(mapped, t);
            } else if (!k.endsWith("position_ids")) {
                throw new CheckpointException(origin + ": unexpected Hugging Face tensor '" + k + "'");
            }
        }
        qkv.forEach((key, parts) -> out.put(key, stacked(parts, key, origin)));
        return out;
    }

    /** A projection matrix stored as nn.Linear's [out, in] weight, as OpenAI's [in, out] parameter. */
    private static StoredTensor transposed(StoredTensor t, String name, String origin) {
        long[] s = t.shape();
        if (s.length != 2) throw new CheckpointException(origin + ": tensor '" + name + "' has shape " + Arrays.toString(s) + "; expected a matrix");
        return t.map(new long[] {s[1], s[0]}, t.dtype(), v -> v.t().contiguous());
    }

    /** q, k and v projections (same shape and dtype) as one packed in_proj tensor, rows q then k then v. */
    private static StoredTensor stacked(StoredTensor[] parts, String key, String origin) {
        for (StoredTensor p : parts) {
            if (p == null) throw new CheckpointException(origin + ": incomplete q/k/v projections for " + key);
        }
        long[] s = parts[0].shape();
        for (StoredTensor p : parts) {
            long[] o = p.shape();
            if (s.length == 0 || o.length != s.length || !Arrays.equals(Arrays.copyOfRange(o, 1, o.length), Arrays.copyOfRange(s, 1, s.length))
                    || p.dtype() != parts[0].dtype()) {
                throw new CheckpointException(origin + ": q/k/v projections for " + key + " differ in shape or dtype");
            }
        }
        long[] shape = s.clone();
        shape[0] = parts[0].shape()[0] + parts[1].shape()[0] + parts[2].shape()[0];
        return StoredTensor.lazy(shape, parts[0].dtype(), () -> {
            Tensor[] values = new Tensor[3];
            try {
                for (int i = 0; i < 3; i++) values[i] = parts[i].get();
                return Tensors.cat(0, values);
            } finally {
                for (Tensor v : values) if (v != null) v.close();
            }
        });
    }
}
