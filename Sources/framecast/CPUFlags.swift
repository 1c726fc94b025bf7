import Foundation

/// The feature flags the kernel reports for this CPU (`flags` in /proc/cpuinfo; empty where
/// there is no such file).
enum CPUFlags {
    static let current: Set<String> = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }()

    /// AMX tiles with bfloat16: where `train tokenizer` computes convolutions in bfloat16 by default.
    static var hasAMX: Bool { current.contains("amx_bf16") }

    /// How oneDNN can run bfloat16 convolutions here, for the training log: AMX tiles, AVX-512
    /// BF16 instructions, or neither (then bfloat16 is emulated and slower than float32).
    static var bfloat16Support: String? {
        if hasAMX { return "AMX" }
        if current.contains("avx512_bf16") { return "AVX512-BF16" }
        return nil
    }
}
