package dev.clip4j.torch;

import org.bytedeco.pytorch.global.torch.ScalarType;

/** The tensor element types clip4j reads and writes, with their safetensors names. */
public enum DType {
    F32(ScalarType.Float, 4, "F32"),
    F16(ScalarType.Half, 2, "F16"),
    BF16(ScalarType.BFloat16, 2, "BF16"),
    F64(ScalarType.Double, 8, "F64"),
    I64(ScalarType.Long, 8, "I64"),
    I32(ScalarType.Int, 4, "I32"),
    I16(ScalarType.Short, 2, "I16"),
    I8(ScalarType.Char, 1, "I8"),
    U8(ScalarType.Byte, 1, "U8"),
    BOOL(ScalarType.Bool, 1, "BOOL");

    final ScalarType scalarType;
    public final int bytes;
    public final String safetensorsName;

    DType(ScalarType scalarType, int bytes, String safetensorsName) {
        this.scalarType = scalarType;
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
    }

    public boolean isFloatingPoint() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }

    /** Pitfall 3: enums coming back from C++ are fresh objects, so match on the numeric value, never identity. */
    static DType of(ScalarType st) {
        for (DType d : values()) {
            if (d.scalarType.value == st.value) return d;
        }
        throw new IllegalArgumentException("unsupported tensor element type " + st.name());
    }

    public static DType fromSafetensorsName(String name) {
        for (DType d : values()) {
            if (d.safetensorsName.equals(name)) return d;
        }
        return null;
    }
}
