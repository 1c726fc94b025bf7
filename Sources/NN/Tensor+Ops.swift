import CTorch

// MARK: - dtype and shape

extension Tensor {
    public func to(_ dtype: DType) throws -> Tensor { try make("to(\(dtype))") { ct_to_dtype($0, dtype.rawValue) } }
    public func reshape(_ shape: [Int]) throws -> Tensor {
        try make("reshape") { h in withShape(shape) { ct_reshape(h, $0, $1) } }
    }
    public func view(_ shape: [Int]) throws -> Tensor {
        try make("view") { h in withShape(shape) { ct_view(h, $0, $1) } }
    }
    public func permute(_ dims: [Int]) throws -> Tensor {
        try make("permute") { h in withShape(dims) { ct_permute(h, $0, $1) } }
    }
    public func transpose(_ d0: Int, _ d1: Int) throws -> Tensor {
        try make("transpose") { ct_transpose($0, Int64(d0), Int64(d1)) }
    }
    public func contiguous() throws -> Tensor { try make("contiguous") { ct_contiguous($0) } }
    /// The same 4-D tensor stored NHWC (channels last). Convolutions of such an input skip
    /// oneDNN's layout reorder (faster for the tokenizer's encoder at inference: docs/numerics.md).
    public func channelsLast() throws -> Tensor { try make("channelsLast") { ct_channels_last($0) } }
    /// `self[..., start:end:step, ...]` along `dim` (end is exclusive; `Int.max` means "to the end").
    public func slice(dim: Int, start: Int = 0, end: Int = Int.max, step: Int = 1) throws -> Tensor {
        try make("slice") { ct_slice($0, Int64(dim), Int64(start), Int64(end), Int64(step)) }
    }
    public func narrow(dim: Int, start: Int, length: Int) throws -> Tensor {
        try make("narrow") { ct_narrow($0, Int64(dim), Int64(start), Int64(length)) }
    }
    /// Removes `dim` by picking `index` along it.
    public func select(dim: Int, index: Int) throws -> Tensor {
        try make("select") { ct_select($0, Int64(dim), Int64(index)) }
    }
    public func indexSelect(dim: Int, index: Tensor) throws -> Tensor {
        try make("indexSelect", index) { ct_index_select($0, Int64(dim), $1) }
    }
    public static func cat(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
        try make("cat", tensors) { hs in
            hs.withUnsafeBufferPointer { ct_cat($0.baseAddress, Int32($0.count), Int64(dim)) }
        }
    }
    public static func stack(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
        try make("stack", tensors) { hs in
            hs.withUnsafeBufferPointer { ct_stack($0.baseAddress, Int32($0.count), Int64(dim)) }
        }
    }
    public func expand(_ shape: [Int]) throws -> Tensor {
        try make("expand") { h in withShape(shape) { ct_expand(h, $0, $1) } }
    }
    public func repeated(_ repeats: [Int]) throws -> Tensor {
        try make("repeat") { h in withShape(repeats) { ct_repeat(h, $0, $1) } }
    }
    public func unsqueeze(_ dim: Int) throws -> Tensor { try make("unsqueeze") { ct_unsqueeze($0, Int64(dim)) } }
    public func squeeze(_ dim: Int) throws -> Tensor { try make("squeeze") { ct_squeeze($0, Int64(dim)) } }
    public func squeeze() throws -> Tensor { try make("squeeze") { ct_squeeze_all($0) } }
    public func flatten(start: Int = 0, end: Int = -1) throws -> Tensor {
        try make("flatten") { ct_flatten($0, Int64(start), Int64(end)) }
    }
    public func tril(_ diagonal: Int = 0) throws -> Tensor { try make("tril") { ct_tril($0, Int64(diagonal)) } }
    public func triu(_ diagonal: Int = 0) throws -> Tensor { try make("triu") { ct_triu($0, Int64(diagonal)) } }
    /// A deep copy (differentiable).
    public func clone() throws -> Tensor { try make("clone") { ct_clone($0) } }
}

// MARK: - Elementwise math

extension Tensor {
    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.make("add", b) { ct_add($0, $1) } }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.make("sub", b) { ct_sub($0, $1) } }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.make("mul", b) { ct_mul($0, $1) } }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.make("div", b) { ct_div($0, $1) } }
    /// `self + value · a · b` in one op (broadcasting), e.g. an affine modulation `shift + x · scale`.
    public func addcmul(_ a: Tensor, _ b: Tensor, value: Double = 1) throws -> Tensor {
        try Tensor.make("addcmul", [self, a, b]) { ct_addcmul($0[0], $0[1], $0[2], value) }
    }
    public static func + (a: Tensor, s: Double) throws -> Tensor { try a.make("add") { ct_add_scalar($0, s) } }
    public static func - (a: Tensor, s: Double) throws -> Tensor { try a.make("sub") { ct_sub_scalar($0, s) } }
    public static func * (a: Tensor, s: Double) throws -> Tensor { try a.make("mul") { ct_mul_scalar($0, s) } }
    public static func / (a: Tensor, s: Double) throws -> Tensor { try a.make("div") { ct_div_scalar($0, s) } }
    public static func + (s: Double, a: Tensor) throws -> Tensor { try a + s }
    public static func * (s: Double, a: Tensor) throws -> Tensor { try a * s }
    public static func - (s: Double, a: Tensor) throws -> Tensor { try a.make("rsub") { ct_rsub_scalar($0, s) } }
    public static func / (s: Double, a: Tensor) throws -> Tensor { try a.make("rdiv") { ct_rdiv_scalar($0, s) } }
    public static prefix func - (a: Tensor) throws -> Tensor { try a.make("neg") { ct_neg($0) } }

    public func pow(_ e: Double) throws -> Tensor { try make("pow") { ct_pow_scalar($0, e) } }
    public func pow(_ e: Tensor) throws -> Tensor { try make("pow", e) { ct_pow($0, $1) } }
    public func maximum(_ o: Tensor) throws -> Tensor { try make("maximum", o) { ct_maximum($0, $1) } }
    public func minimum(_ o: Tensor) throws -> Tensor { try make("minimum", o) { ct_minimum($0, $1) } }
    public func clamp(min lo: Double? = nil, max hi: Double? = nil) throws -> Tensor {
        try make("clamp") { ct_clamp($0, lo ?? 0, hi ?? 0, ctBool(lo != nil), ctBool(hi != nil)) }
    }
    public func sqrt() throws -> Tensor { try make("sqrt") { ct_sqrt($0) } }
    public func rsqrt() throws -> Tensor { try make("rsqrt") { ct_rsqrt($0) } }
    public func exp() throws -> Tensor { try make("exp") { ct_exp($0) } }
    public func log() throws -> Tensor { try make("log") { ct_log($0) } }
    public func abs() throws -> Tensor { try make("abs") { ct_abs($0) } }
    public func square() throws -> Tensor { try make("square") { ct_square($0) } }
    public func sin() throws -> Tensor { try make("sin") { ct_sin($0) } }
    public func cos() throws -> Tensor { try make("cos") { ct_cos($0) } }
    public func floor() throws -> Tensor { try make("floor") { ct_floor($0) } }
    public func rounded() throws -> Tensor { try make("round") { ct_round($0) } }
    public func relu() throws -> Tensor { try make("relu") { ct_relu($0) } }
    /// GELU; `approximate: true` is the tanh form.
    public func gelu(approximate: Bool = false) throws -> Tensor { try make("gelu") { ct_gelu($0, ctBool(approximate)) } }
    public func silu() throws -> Tensor { try make("silu") { ct_silu($0) } }
    public func sigmoid() throws -> Tensor { try make("sigmoid") { ct_sigmoid($0) } }
    public func tanh() throws -> Tensor { try make("tanh") { ct_tanh($0) } }
    public func softmax(dim: Int) throws -> Tensor { try make("softmax") { ct_softmax($0, Int64(dim)) } }
    public func logSoftmax(dim: Int) throws -> Tensor { try make("logSoftmax") { ct_log_softmax($0, Int64(dim)) } }
    public func dropout(_ p: Double, training: Bool) throws -> Tensor {
        try make("dropout") { ct_dropout($0, p, ctBool(training)) }
    }

    // comparisons -> bool tensors
    private func cmp(_ o: Tensor, _ op: Int32, _ name: String) throws -> Tensor { try make(name, o) { ct_compare($0, $1, op) } }
    private func cmp(_ s: Double, _ op: Int32, _ name: String) throws -> Tensor { try make(name) { ct_compare_scalar($0, s, op) } }
    public func eq(_ o: Tensor) throws -> Tensor { try cmp(o, 0, "eq") }
    public func ne(_ o: Tensor) throws -> Tensor { try cmp(o, 1, "ne") }
    public func lt(_ o: Tensor) throws -> Tensor { try cmp(o, 2, "lt") }
    public func le(_ o: Tensor) throws -> Tensor { try cmp(o, 3, "le") }
    public func gt(_ o: Tensor) throws -> Tensor { try cmp(o, 4, "gt") }
    public func ge(_ o: Tensor) throws -> Tensor { try cmp(o, 5, "ge") }
    public func eq(_ s: Double) throws -> Tensor { try cmp(s, 0, "eq") }
    public func ne(_ s: Double) throws -> Tensor { try cmp(s, 1, "ne") }
    public func lt(_ s: Double) throws -> Tensor { try cmp(s, 2, "lt") }
    public func le(_ s: Double) throws -> Tensor { try cmp(s, 3, "le") }
    public func gt(_ s: Double) throws -> Tensor { try cmp(s, 4, "gt") }
    public func ge(_ s: Double) throws -> Tensor { try cmp(s, 5, "ge") }
    public func logicalNot() throws -> Tensor { try make("logicalNot") { ct_logical_not($0) } }
    /// `condition ? a : b`, elementwise with broadcasting.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        try make("where", [condition, a, b]) { ct_where($0[0], $0[1], $0[2]) }
    }
    /// Entries where `mask` is true become `value`.
    public func maskedFill(_ mask: Tensor, _ value: Double) throws -> Tensor {
        try make("maskedFill", mask) { ct_masked_fill($0, $1, value) }
    }
}

// MARK: - Linear algebra

extension Tensor {
    /// PyTorch `matmul` (batched, broadcasting). float32 GEMMs run in oneDNN (`Torch.routesGemmToOneDNN`).
    public func matmul(_ other: Tensor) throws -> Tensor { try make("matmul", other) { ct_matmul($0, $1) } }
    /// `[B, M, K] × [B, K, N]`; float32 with ≥ 2 threads runs the batch in parallel.
    public func bmm(_ other: Tensor) throws -> Tensor { try make("bmm", other) { ct_bmm($0, $1) } }
}

// MARK: - Reductions and indexing

extension Tensor {
    public func sum() throws -> Tensor { try make("sum") { ct_sum_all($0) } }
    public func mean() throws -> Tensor { try make("mean") { ct_mean_all($0) } }
    public func sum(dims: [Int], keepDim: Bool = false) throws -> Tensor {
        try make("sum") { h in withShape(dims) { ct_sum_dims(h, $0, $1, ctBool(keepDim)) } }
    }
    public func mean(dims: [Int], keepDim: Bool = false) throws -> Tensor {
        try make("mean") { h in withShape(dims) { ct_mean_dims(h, $0, $1, ctBool(keepDim)) } }
    }
    public func sum(dim: Int, keepDim: Bool = false) throws -> Tensor { try sum(dims: [dim], keepDim: keepDim) }
    public func mean(dim: Int, keepDim: Bool = false) throws -> Tensor { try mean(dims: [dim], keepDim: keepDim) }
    public func max() throws -> Tensor { try make("max") { ct_max_all($0) } }
    public func min() throws -> Tensor { try make("min") { ct_min_all($0) } }
    public func max(dim: Int, keepDim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        var v: OpaquePointer?, i: OpaquePointer?
        if withHandle({ ct_max_dim($0, Int64(dim), ctBool(keepDim), &v, &i) }) != 0 { throw TorchError.last("max") }
        return (try Tensor.adopt("max", v), try Tensor.adopt("max", i))
    }
    public func argmax(dim: Int, keepDim: Bool = false) throws -> Tensor {
        try make("argmax") { ct_argmax($0, Int64(dim), ctBool(keepDim)) }
    }
    public func argmin(dim: Int, keepDim: Bool = false) throws -> Tensor {
        try make("argmin") { ct_argmin($0, Int64(dim), ctBool(keepDim)) }
    }
    public func gather(dim: Int, index: Tensor) throws -> Tensor {
        try make("gather", index) { ct_gather($0, Int64(dim), $1) }
    }
    /// Out-of-place scatter: a copy of `self` with `src` written at `index` along `dim`.
    public func scatter(dim: Int, index: Tensor, src: Tensor) throws -> Tensor {
        try Tensor.make("scatter", [self, index, src]) { ct_scatter($0[0], Int64(dim), $0[1], $0[2]) }
    }
    public func scatterAdd(dim: Int, index: Tensor, src: Tensor) throws -> Tensor {
        try Tensor.make("scatterAdd", [self, index, src]) { ct_scatter_add($0[0], Int64(dim), $0[1], $0[2]) }
    }
    public func indexAdd(dim: Int, index: Tensor, src: Tensor) throws -> Tensor {
        try Tensor.make("indexAdd", [self, index, src]) { ct_index_add($0[0], Int64(dim), $0[1], $0[2]) }
    }
    /// int64 one-hot of an int64 index tensor.
    public func oneHot(_ numClasses: Int) throws -> Tensor { try make("oneHot") { ct_one_hot($0, Int64(numClasses)) } }
    public func bincount(minLength: Int = 0) throws -> Tensor { try make("bincount") { ct_bincount($0, Int64(minLength)) } }
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true) throws -> (values: Tensor, indices: Tensor) {
        var v: OpaquePointer?, i: OpaquePointer?
        if withHandle({ ct_topk($0, Int64(k), Int64(dim), ctBool(largest), &v, &i) }) != 0 { throw TorchError.last("topk") }
        return (try Tensor.adopt("topk", v), try Tensor.adopt("topk", i))
    }
    /// Samples `n` indices per row from (unnormalised, non-negative) probabilities.
    public func multinomial(_ n: Int, replacement: Bool = false) throws -> Tensor {
        try make("multinomial") { ct_multinomial($0, Int64(n), ctBool(replacement)) }
    }
    /// Indices of non-zero entries, int64 `[n, ndim]`.
    public func nonzero() throws -> Tensor { try make("nonzero") { ct_nonzero($0) } }
    public func isFinite() throws -> Tensor { try make("isFinite") { ct_isfinite($0) } }
    /// True if every element is finite (no NaN/inf), e.g. to guard a training step.
    public func allFinite() throws -> Bool { try isFinite().logicalNot().to(.int64).sum().item() == 0 }
    public func logsumexp(dim: Int, keepDim: Bool = false) throws -> Tensor {
        try make("logsumexp") { ct_logsumexp($0, Int64(dim), ctBool(keepDim)) }
    }
    public func variance(dims: [Int], unbiased: Bool = true, keepDim: Bool = false) throws -> Tensor {
        try make("var") { h in withShape(dims) { ct_var(h, $0, $1, ctBool(unbiased), ctBool(keepDim)) } }
    }
    public func cumsum(dim: Int) throws -> Tensor { try make("cumsum") { ct_cumsum($0, Int64(dim)) } }
    public func sort(dim: Int = -1, descending: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        var i: OpaquePointer?
        let v = withHandle { ct_sort($0, Int64(dim), ctBool(descending), &i) }
        let values = try Tensor.adopt("sort", v)
        return (values, try Tensor.adopt("sort", i))
    }
}

// MARK: - Autograd and in-place updates

extension Tensor {
    /// A tensor sharing storage but cut from the graph (stop-gradient).
    public func detach() throws -> Tensor { try make("detach") { ct_detach($0) } }
    public var requiresGrad: Bool { query { ct_requires_grad($0) } == 1 }
    /// Marks a leaf tensor as a parameter-like input; returns `self`.
    @discardableResult
    public func requiresGrad(_ flag: Bool) throws -> Tensor {
        try Tensor.check("requiresGrad", [self]) { ct_set_requires_grad($0[0], ctBool(flag)) }
        return self
    }
    /// The accumulated gradient, or nil if none yet.
    public var grad: Tensor? {
        var g: OpaquePointer?
        if withHandle({ ct_grad($0, &g) }) != 0 { fatalError("grad: \(TorchError.last("grad"))") }
        return g.map { Tensor(handle: $0) }
    }
    /// Drops `.grad` (PyTorch's `set_to_none`).
    public func zeroGrad() { _ = query { ct_zero_grad($0) } }
    /// Backpropagates from this tensor: scalar by default, or with `gradient` of the same shape.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) throws {
        try Tensor.check("backward", [self, gradient]) { ct_backward($0[0], $0[1], ctBool(retainGraph)) }
    }

    /// Runs `body` with gradient recording disabled on this thread (restored afterwards).
    /// Not `async` on purpose: libtorch's grad mode is thread-local.
    public static func noGrad<R>(_ body: () throws -> R) rethrows -> R {
        let previous = ct_set_grad_enabled(0)
        defer { _ = ct_set_grad_enabled(previous) }
        return try body()
    }
    /// Runs `body` with gradient recording enabled on this thread.
    public static func enableGrad<R>(_ body: () throws -> R) rethrows -> R {
        let previous = ct_set_grad_enabled(1)
        defer { _ = ct_set_grad_enabled(previous) }
        return try body()
    }
    public static var isGradEnabled: Bool { ct_grad_enabled() == 1 }

    /// Runs `body` with float32 convolutions computed in bfloat16 on this thread: inputs, weights
    /// and biases are rounded to bfloat16 and outputs return as float32, so everything else (norms,
    /// losses, parameters, optimizer state) stays float32. Pays where oneDNN has bfloat16 kernels
    /// (AMX: ~5x a float32 convolution); see docs/numerics.md.
    public static func convolutionsInBFloat16<R>(_ enabled: Bool = true, _ body: () throws -> R) rethrows -> R {
        let previous = ct_set_conv_bfloat16(enabled ? 1 : 0)
        defer { _ = ct_set_conv_bfloat16(previous) }
        return try body()
    }
    public static var areConvolutionsInBFloat16: Bool { ct_conv_bfloat16() == 1 }

    // In-place updates (use inside `Tensor.noGrad` for parameters).
    public func addInPlace(_ other: Tensor, alpha: Double = 1) throws {
        try Tensor.check("add_", [self, other]) { ct_add_($0[0], $0[1], alpha) }
    }
    public func mulInPlace(_ other: Tensor) throws { try Tensor.check("mul_", [self, other]) { ct_mul_($0[0], $0[1]) } }
    public func addInPlace(_ s: Double) throws { try Tensor.check("add_", [self]) { ct_add_scalar_($0[0], s) } }
    public func mulInPlace(_ s: Double) throws { try Tensor.check("mul_", [self]) { ct_mul_scalar_($0[0], s) } }
    public func addcmulInPlace(_ a: Tensor, _ b: Tensor, value: Double = 1) throws {
        try Tensor.check("addcmul_", [self, a, b]) { ct_addcmul_($0[0], $0[1], $0[2], value) }
    }
    public func addcdivInPlace(_ a: Tensor, _ b: Tensor, value: Double = 1) throws {
        try Tensor.check("addcdiv_", [self, a, b]) { ct_addcdiv_($0[0], $0[1], $0[2], value) }
    }
    public func lerpInPlace(_ end: Tensor, weight: Double) throws {
        try Tensor.check("lerp_", [self, end]) { ct_lerp_($0[0], $0[1], weight) }
    }
    public func copyFrom(_ src: Tensor) throws { try Tensor.check("copy_", [self, src]) { ct_copy_($0[0], $0[1]) } }
    public func zeroInPlace() throws { try Tensor.check("zero_", [self]) { ct_zero_($0[0]) } }
    public func fillInPlace(_ v: Double) throws { try Tensor.check("fill_", [self]) { ct_fill_($0[0], v) } }
    public func uniformInPlace(low: Double, high: Double) throws {
        try Tensor.check("uniform_", [self]) { ct_uniform_($0[0], low, high) }
    }
    public func normalInPlace(mean: Double = 0, std: Double = 1) throws {
        try Tensor.check("normal_", [self]) { ct_normal_($0[0], mean, std) }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let s = shape
        var text = "Tensor(\(dtype), shape: \(s)"
        if numel <= 8, let v = try? doubles() { text += ", \(v)" }
        return text + ")"
    }
}
