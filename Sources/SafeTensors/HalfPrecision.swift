// Conversions between Float and the two 16-bit float formats, as raw bit patterns.

/// The IEEE binary16 bit pattern nearest to `value` (round to nearest, ties to even).
func halfBits(from value: Float) -> UInt16 {
    Float16(value).bitPattern
}

/// The Float exactly equal to the binary16 value with bit pattern `bits`.
func float(fromHalfBits bits: UInt16) -> Float {
    Float(Float16(bitPattern: bits))
}

/// The bfloat16 bit pattern nearest to `value` (round to nearest, ties to even; NaN stays NaN).
func bfloat16Bits(from value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN {
        return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040
    }
    let roundingBias: UInt32 = 0x7FFF + ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: (bits &+ roundingBias) >> 16)
}

/// The Float exactly equal to the bfloat16 value with bit pattern `bits`.
func float(fromBFloat16Bits bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}
