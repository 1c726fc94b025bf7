import CTorch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// AdamW (PyTorch semantics, amsgrad off) using the shim's fused in-place step. Optimizer state
/// lives in Swift-owned tensors, addressable by parameter name for saving/loading.
public final class AdamW {
    public struct ParamState {
        public let expAvg: Tensor
        public let expAvgSq: Tensor
    }

    public let params: [(String, Tensor)]
    public var lr: Double
    public var beta1: Double, beta2: Double, eps: Double, weightDecay: Double
    /// Parameters for which `decays(name)` is false get no weight decay (e.g. biases, norms).
    public let decays: (String) -> Bool
    /// Number of steps taken (the next step uses `step + 1` for bias correction).
    public private(set) var step: Int = 0
    public private(set) var state: [String: ParamState] = [:]

    public init(_ params: [(String, Tensor)], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Double = 1e-8, weightDecay: Double = 0.01, decays: @escaping (String) -> Bool = { _ in true }) {
        var seen = Set<String>()
        for (name, _) in params { precondition(seen.insert(name).inserted, "AdamW: duplicate parameter name \(name)") }
        self.params = params
        self.lr = lr
        (beta1, beta2) = betas
        self.eps = eps
        self.weightDecay = weightDecay
        self.decays = decays
        for (name, p) in params {
            state[name] = Init.must("AdamW state") {
                ParamState(expAvg: try Tensor.zeros(p.shape, dtype: p.dtype), expAvgSq: try Tensor.zeros(p.shape, dtype: p.dtype))
            }
        }
    }

    /// One update of every parameter that has a gradient. `lr` overrides `self.lr` for this step.
    public func step(lr: Double? = nil) throws {
        step += 1
        let rate = lr ?? self.lr
        for (name, p) in params {
            guard let g = p.grad, let s = state[name] else { continue }
            let wd = decays(name) ? weightDecay : 0
            try Tensor.check("adamw(\(name))", [p, g, s.expAvg, s.expAvgSq]) {
                ct_adamw_step($0[0], $0[1], $0[2], $0[3], rate, beta1, beta2, eps, wd, Int64(step))
            }
        }
    }

    public func zeroGrad() { for (_, p) in params { p.zeroGrad() } }

    /// Scales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before.
    @discardableResult
    public func clipGradNorm(_ maxNorm: Double) throws -> Double {
        var total = 0.0
        try Tensor.check("clipGradNorm", params.map { $0.1 }) { hs in
            hs.withUnsafeBufferPointer { ct_clip_grad_norm($0.baseAddress, Int32($0.count), maxNorm, &total) }
        }
        return total
    }

    /// State as named tensors: `NAME.exp_avg`, `NAME.exp_avg_sq` in parameter order.
    public var namedState: [(String, Tensor)] {
        params.flatMap { name, _ -> [(String, Tensor)] in
            guard let s = state[name] else { return [] }
            return [("\(name).exp_avg", s.expAvg), ("\(name).exp_avg_sq", s.expAvgSq)]
        }
    }

    /// Restores state saved from `namedState` plus the step count.
    public func loadState(_ values: [String: Tensor], step: Int) throws {
        try Tensor.noGrad {
            for (name, s) in state {
                for (suffix, t) in [("exp_avg", s.expAvg), ("exp_avg_sq", s.expAvgSq)] {
                    guard let v = values["\(name).\(suffix)"] else {
                        throw TorchError(op: "AdamW.loadState", message: "missing \(name).\(suffix)")
                    }
                    try t.copyFrom(v)
                }
            }
        }
        self.step = step
    }
}

/// Linear warmup from 0 to `peak` over `warmupSteps`, then cosine decay to `floor` at `totalSteps`.
/// Steps are 1-based (the value for the optimizer's next step).
public struct WarmupCosine: Sendable {
    public var peak: Double, floor: Double
    public var warmupSteps: Int, totalSteps: Int

    public init(peak: Double, warmupSteps: Int, totalSteps: Int, floor: Double = 0) {
        self.peak = peak
        self.floor = floor
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    public func callAsFunction(_ step: Int) -> Double {
        if warmupSteps > 0 && step <= warmupSteps { return peak * Double(step) / Double(warmupSteps) }
        let span = Swift.max(1, totalSteps - warmupSteps)
        let progress = Swift.min(1, Swift.max(0, Double(step - warmupSteps) / Double(span)))
        return floor + 0.5 * (peak - floor) * (1 + cos(Double.pi * progress))
    }
}
