import CTorch

/// Where tensors live and compute.
public enum ComputeDevice: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The CPU (libtorch's threads): the default, and the only device of Debian's libtorch.
    case cpu
    /// The first CUDA GPU, with a libtorch built with CUDA (the opt-in PyPI build).
    case cuda

    public var description: String { rawValue }
}

extension Torch {
    /// Makes new tensors on `device` from now on: every creation, every tensor made from Swift
    /// memory (batches, loaded weights) and every random draw, which is made on the CPU from the
    /// seeded generator and moved, so a seed draws the same numbers on either device (ops that draw
    /// on the GPU, dropout, use its generator, seeded by `manualSeed` alike). Reading a
    /// tensor back to Swift copies it from the device. Call it once, before any model is built.
    ///
    /// Throws, leaving the CPU in place, when `device` is `.cuda` and this libtorch has no CUDA or
    /// sees no GPU.
    public static func setDevice(_ device: ComputeDevice) throws {
        bootstrap()
        guard ct_set_device(device == .cuda ? 1 : 0, 0) == 0 else { throw TorchError.last("--device \(device)") }
    }

    /// The device new tensors are made on.
    public static var device: ComputeDevice { ct_device_type() == 1 ? .cuda : .cpu }
}
