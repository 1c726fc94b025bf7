import XCTest
import NN

/// Compares autograd gradients with float64 central finite differences.
///
/// `inputs` become fresh float64 leaves; `f` maps them to any tensor, which is reduced to a
/// scalar with fixed random weights so every output element contributes.
func gradcheck(_ name: String, _ inputs: [Tensor], eps: Double = 1e-6, atol: Double = 1e-7, rtol: Double = 1e-5,
               file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) throws -> Tensor) throws {
    if let mismatch = try gradientMismatch(inputs, eps: eps, atol: atol, rtol: rtol, f) {
        XCTFail("\(name): \(mismatch)", file: file, line: line)
    }
}

/// The first element whose analytic and numeric gradients disagree, or nil.
func gradientMismatch(_ inputs: [Tensor], eps: Double = 1e-6, atol: Double = 1e-7, rtol: Double = 1e-5,
                      _ f: ([Tensor]) throws -> Tensor) throws -> String? {
    let leaves = try inputs.map { try $0.detach().to(.float64).clone().requiresGrad(true) }
    let out = try f(leaves)
    if out.dtype != .float64 { return "output is \(out.dtype), expected float64" }
    let weights = try Tensor.randn(out.shape, dtype: .float64)
    try (out * weights).sum().backward()

    func evaluate(_ xs: [Tensor]) throws -> Double {
        try Tensor.noGrad { try (f(xs) * weights).sum().item() }
    }

    for (i, x) in leaves.enumerated() {
        let shape = x.shape
        let analytic = try x.grad?.doubles() ?? [Double](repeating: 0, count: x.numel)
        var values = try x.doubles()
        for j in values.indices {
            let original = values[j]
            var xs = leaves
            values[j] = original + eps
            xs[i] = try Tensor(values, shape: shape)
            let plus = try evaluate(xs)
            values[j] = original - eps
            xs[i] = try Tensor(values, shape: shape)
            let minus = try evaluate(xs)
            values[j] = original
            let numeric = (plus - minus) / (2 * eps)
            if Swift.abs(analytic[j] - numeric) > atol + rtol * Swift.abs(numeric) {
                return "input \(i) element \(j): analytic \(analytic[j]) vs numeric \(numeric)"
            }
        }
    }
    return nil
}

func assertClose(_ a: [Double], _ b: [Double], tol: Double, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(message): counts differ", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() where Swift.abs(x - y) > tol * (1 + Swift.abs(y)) {
        XCTFail("\(message): element \(i): \(x) vs \(y)", file: file, line: line)
        return
    }
}

func assertClose(_ a: [Float], _ b: [Float], tol: Float, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    assertClose(a.map(Double.init), b.map(Double.init), tol: Double(tol), message, file: file, line: line)
}
