import CTorch

/// Something with parameters. `namedParameters` is ordered and uses PyTorch `state_dict` names
/// (`encoder.conv1.weight`), so weights can be saved/loaded by name.
public protocol Module: AnyObject {
    var namedParameters: [(String, Tensor)] { get }
}

extension Module {
    public var parameters: [Tensor] { namedParameters.map { $0.1 } }
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.1.numel } }

    /// Drops every parameter's gradient.
    public func zeroGrad() { for (_, p) in namedParameters { p.zeroGrad() } }

    /// This module's parameters under `prefix.` (for composing modules).
    public func namedParameters(prefix: String) -> [(String, Tensor)] {
        namedParameters.map { (prefix.isEmpty ? $0.0 : "\(prefix).\($0.0)", $0.1) }
    }

    /// Copies values into the parameters by name (no grad). With `strict`, every parameter
    /// must be present and every key must be used. Shapes must match.
    public func load(_ values: [String: Tensor], strict: Bool = true) throws {
        let params = namedParameters
        if strict {
            let names = Set(params.map { $0.0 })
            let missing = names.subtracting(values.keys).sorted()
            let unexpected = Set(values.keys).subtracting(names).sorted()
            if !missing.isEmpty || !unexpected.isEmpty {
                throw TorchError(op: "load", message: "missing \(missing), unexpected \(unexpected)")
            }
        }
        try Tensor.noGrad {
            for (name, p) in params {
                guard let v = values[name] else { continue }
                if v.shape != p.shape {
                    throw TorchError(op: "load", message: "\(name): expected shape \(p.shape), got \(v.shape)")
                }
                try p.copyFrom(v)
            }
        }
    }
}

/// Parameter initialisers matching PyTorch's defaults (same generator, same draw order).
public enum Init {
    /// A leaf tensor that requires grad.
    static func parameter(_ t: Tensor) -> Tensor { must("parameter") { try t.requiresGrad(true) } }

    /// `kaiming_uniform_(a: √5)` as used by `nn.Linear` / `nn.Conv2d`: U(−1/√fanIn, 1/√fanIn).
    public static func kaimingUniform(_ shape: [Int], fanIn: Int, a: Double = 5.0.squareRoot()) -> Tensor {
        let gain = (2.0 / (1.0 + a * a)).squareRoot()
        let bound = gain * (3.0 / Double(fanIn)).squareRoot()
        return uniform(shape, bound: bound)
    }
    public static func uniform(_ shape: [Int], bound: Double) -> Tensor {
        parameter(must("uniform") { try Tensor.uniform(shape, low: -bound, high: bound) })
    }
    public static func normal(_ shape: [Int], std: Double = 1) -> Tensor {
        parameter(must("normal") { try Tensor.randn(shape) * std })
    }
    public static func constant(_ shape: [Int], _ value: Double) -> Tensor {
        parameter(must("constant") { try Tensor.full(shape, value) })
    }

    /// Construction-time failures are programmer errors (bad hyperparameters): trap with the message.
    static func must<T>(_ what: String, _ body: () throws -> T) -> T {
        do { return try body() } catch { fatalError("\(what): \(error)") }
    }
}

/// `y = x Wᵀ + b` (PyTorch `nn.Linear`; weight `[out, in]`).
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear(\(inFeatures), \(outFeatures)): sizes must be positive")
        weight = Init.kaimingUniform([outFeatures, inFeatures], fanIn: inFeatures)
        self.bias = bias ? Init.uniform([outFeatures], bound: 1 / Double(inFeatures).squareRoot()) : nil
    }

    public var namedParameters: [(String, Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try F.linear(x, weight, bias) }
}

/// PyTorch `nn.Conv2d` (square kernel, same stride/padding in both directions).
public final class Conv2d: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int, padding: Int, groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                groups: Int = 1, bias: Bool = true) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && groups > 0,
                     "Conv2d(\(inChannels), \(outChannels), k\(kernelSize)): sizes must be positive")
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d: groups \(groups) must divide in \(inChannels) and out \(outChannels) channels")
        let fanIn = inChannels / groups * kernelSize * kernelSize
        weight = Init.kaimingUniform([outChannels, inChannels / groups, kernelSize, kernelSize], fanIn: fanIn)
        self.bias = bias ? Init.uniform([outChannels], bound: 1 / Double(fanIn).squareRoot()) : nil
        self.stride = stride
        self.padding = padding
        self.groups = groups
    }

    public var namedParameters: [(String, Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try F.conv2d(x, weight, bias, stride: stride, padding: padding, groups: groups)
    }
}

/// PyTorch `nn.LayerNorm` over the last dimension.
public final class LayerNorm: Module {
    public let weight: Tensor?, bias: Tensor?
    public let dim: Int, eps: Double

    public init(_ dim: Int, eps: Double = 1e-5, affine: Bool = true) {
        self.dim = dim
        self.eps = eps
        weight = affine ? Init.constant([dim], 1) : nil
        bias = affine ? Init.constant([dim], 0) : nil
    }

    public var namedParameters: [(String, Tensor)] {
        guard let weight, let bias else { return [] }
        return [("weight", weight), ("bias", bias)]
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try F.layerNorm(x, normalizedShape: [dim], weight: weight, bias: bias, eps: eps)
    }
}

/// PyTorch `nn.GroupNorm`.
public final class GroupNorm: Module {
    public let weight: Tensor?, bias: Tensor?
    public let groups: Int, channels: Int, eps: Double

    public init(groups: Int, channels: Int, eps: Double = 1e-5, affine: Bool = true) {
        precondition(groups > 0 && channels % groups == 0, "GroupNorm: \(groups) groups must divide \(channels) channels")
        self.groups = groups
        self.channels = channels
        self.eps = eps
        weight = affine ? Init.constant([channels], 1) : nil
        bias = affine ? Init.constant([channels], 0) : nil
    }

    public var namedParameters: [(String, Tensor)] {
        guard let weight, let bias else { return [] }
        return [("weight", weight), ("bias", bias)]
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try F.groupNorm(x, groups: groups, weight: weight, bias: bias, eps: eps)
    }
}

/// PyTorch `nn.Embedding` (weight ~ N(0, 1)).
public final class Embedding: Module {
    public let weight: Tensor

    public init(_ count: Int, _ dim: Int) {
        precondition(count > 0 && dim > 0, "Embedding(\(count), \(dim)): sizes must be positive")
        weight = Init.normal([count, dim])
    }

    public var namedParameters: [(String, Tensor)] { [("weight", weight)] }

    /// int64 indices of any shape -> `[..., dim]`.
    public func callAsFunction(_ indices: Tensor) throws -> Tensor { try F.embedding(weight, indices) }
}

/// GroupNorm → SiLU → conv3×3 → GroupNorm → SiLU → conv3×3, plus the input (through a 1×1
/// conv named `skip` when the channel count changes).
public final class ResidualBlock: Module {
    public let norm1: GroupNorm, conv1: Conv2d, norm2: GroupNorm, conv2: Conv2d
    public let skip: Conv2d?

    /// `groups` defaults to the largest of 32, 16, 8, … that divides both channel counts.
    public init(_ inChannels: Int, _ outChannels: Int, groups: Int? = nil) {
        let g = groups ?? [32, 16, 8, 4, 2, 1].first { inChannels % $0 == 0 && outChannels % $0 == 0 }!
        norm1 = GroupNorm(groups: g, channels: inChannels)
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1)
        norm2 = GroupNorm(groups: g, channels: outChannels)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1)
        skip = inChannels == outChannels ? nil : Conv2d(inChannels, outChannels, kernelSize: 1)
    }

    public var namedParameters: [(String, Tensor)] {
        norm1.namedParameters(prefix: "norm1") + conv1.namedParameters(prefix: "conv1")
            + norm2.namedParameters(prefix: "norm2") + conv2.namedParameters(prefix: "conv2")
            + (skip?.namedParameters(prefix: "skip") ?? [])
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        var h = try conv1(norm1(x).silu())
        h = try conv2(norm2(h).silu())
        return try h + (skip.map { try $0(x) } ?? x)
    }
}
