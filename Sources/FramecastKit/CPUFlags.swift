import Foundation

/// The feature flags the kernel reports for this CPU (`flags` in /proc/cpuinfo; empty where
/// there is no such file).
package enum CPUFlags {
    package static let current: Set<String> = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }()

    /// How oneDNN runs bfloat16 convolutions here: on AMX tiles, with AVX-512 BF16 instructions,
    /// or neither (nil: bfloat16 is emulated and slower than float32). Where it is not nil,
    /// `train tokenizer` computes its convolutions in bfloat16 by default.
    package static var bfloat16Support: String? {
        if current.contains("amx_bf16") { return "AMX" }
        if current.contains("avx512_bf16") { return "AVX512-BF16" }
        return nil
    }
}
