import XCTest
import NN

final class TensorTests: XCTestCase {
    func testCreateAndReadBack() throws {
        let t = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        XCTAssertEqual(t.shape, [2, 3])
        XCTAssertEqual(t.ndim, 2)
        XCTAssertEqual(t.numel, 6)
        XCTAssertEqual(t.dtype, .float32)
        XCTAssertEqual(try t.floats(), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try t.transpose(0, 1).floats(), [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(try t.sum().scalar(), 21)
        XCTAssertEqual(try t.int64s(), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try Tensor.scalar(2.5).shape, [])
        XCTAssertEqual(try Tensor.scalar(2.5).item(), 2.5)
    }

    func testRawBuffersAllDtypes() throws {
        // u8
        let u8 = try Tensor([0, 127, 255] as [UInt8])
        XCTAssertEqual(try u8.rawBytes(), [0, 127, 255])
        XCTAssertEqual(try u8.floats(), [0, 127, 255])
        // i64 / i32
        XCTAssertEqual(try Tensor([-5, 1 << 40] as [Int64]).int64s(), [-5, 1 << 40])
        XCTAssertEqual(try Tensor([-7, 9] as [Int32]).int32s(), [-7, 9])
        // f16 from raw little-endian bytes: 1.0 = 0x3C00, -2.0 = 0xC000
        let bytes: [UInt8] = [0x00, 0x3C, 0x00, 0xC0]
        let f16 = try bytes.withUnsafeBytes { try Tensor(bytes: $0, dtype: .float16, shape: [2, 1]) }
        XCTAssertEqual(f16.dtype, .float16)
        XCTAssertEqual(f16.shape, [2, 1])
        XCTAssertEqual(try f16.floats(), [1, -2])
        XCTAssertEqual(try f16.rawBytes(), bytes)
        // f64 round trip through raw bytes
        let d = try Tensor([1.5, -0.25] as [Double])
        let raw = try d.rawBytes()
        let back = try raw.withUnsafeBytes { try Tensor(bytes: $0, dtype: .float64, shape: [2]) }
        XCTAssertEqual(try back.doubles(), [1.5, -0.25])
        // bool
        XCTAssertEqual(try Tensor([true, false]).bools(), [true, false])
        // wrong byte count is an error, not UB
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try Tensor(bytes: $0, dtype: .float32, shape: [2]) }) {
            XCTAssert("\($0)".contains("needs 8 bytes, got 4"), "\($0)")
        }
        XCTAssertThrowsError(try Tensor([1, 2, 3] as [Float], shape: [2, 2]))
    }

    func testOperatorsAndReductions() throws {
        let a = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
        let b = try Tensor([10, 20] as [Float])
        XCTAssertEqual(try (a + b).floats(), [11, 22, 13, 24])
        XCTAssertEqual(try (a - 1).floats(), [0, 1, 2, 3])
        XCTAssertEqual(try (2 * a / 4).floats(), [0.5, 1, 1.5, 2])
        XCTAssertEqual(try (10 - a).floats(), [9, 8, 7, 6])
        XCTAssertEqual(try (-a).floats(), [-1, -2, -3, -4])
        XCTAssertEqual(try a.matmul(a).floats(), [7, 10, 15, 22])
        XCTAssertEqual(try a.mean(dim: 0).floats(), [2, 3])
        XCTAssertEqual(try a.sum(dim: 1, keepDim: true).shape, [2, 1])
        XCTAssertEqual(try a.argmax(dim: 1).ints(), [1, 1])
        let (v, i) = try a.max(dim: 0)
        XCTAssertEqual(try v.floats(), [3, 4])
        XCTAssertEqual(try i.ints(), [1, 1])
        XCTAssertEqual(try a.clamp(min: 2, max: 3).floats(), [2, 2, 3, 3])
        XCTAssertEqual(try a.gt(2).bools(), [false, false, true, true])
        XCTAssertEqual(try a.maskedFill(a.gt(2), -1).floats(), [1, 2, -1, -1])
        XCTAssertEqual(try Tensor.where(a.lt(3), a, Tensor.zeros([1])).floats(), [1, 2, 0, 0])
        let (tv, ti) = try Tensor([3, 1, 4, 1, 5] as [Float]).topk(2)
        XCTAssertEqual(try tv.floats(), [5, 4])
        XCTAssertEqual(try ti.ints(), [4, 2])
        XCTAssertEqual(try Tensor(indices: [2, 0]).oneHot(3).ints(), [0, 0, 1, 1, 0, 0])
        XCTAssertEqual(try F.causalMask(3).bools(), [true, false, false, true, true, false, true, true, true])
        XCTAssertEqual(try F.causalMask(2, 3).bools(), [true, true, false, true, true, true])
        XCTAssertEqual(try Tensor.arange(5).ints(), [0, 1, 2, 3, 4])
        XCTAssertEqual(try Tensor([0, 3, 0, 1] as [Float]).nonzero().ints(), [1, 3])
        XCTAssertTrue(try a.allFinite())
        XCTAssertFalse(try (a / 0).allFinite())
        XCTAssertEqual(try Tensor([0, 0] as [Float]).logsumexp(dim: 0).item(), 0.6931472, accuracy: 1e-6)
        XCTAssertEqual(try a.variance(dims: [0, 1]).item(), 5.0 / 3.0, accuracy: 1e-6)
    }

    func testMultinomialAndDropout() throws {
        Torch.manualSeed(7)
        let probs = try Tensor([0, 0, 1, 0] as [Float], shape: [1, 4])
        XCTAssertEqual(try probs.multinomial(3, replacement: true).ints(), [2, 2, 2])
        let x = try Tensor.ones([1000])
        let d = try x.dropout(0.5, training: true)
        let kept = try d.gt(0).to(.float32).sum().item()
        XCTAssert(kept > 400 && kept < 600, "kept \(kept)")
        XCTAssertEqual(try d.max().item(), 2)
        XCTAssertEqual(try x.dropout(0.5, training: false).sum().item(), 1000)
    }

    func testAutogradBasics() throws {
        let x = try Tensor([1, 2, 3] as [Float]).requiresGrad(true)
        XCTAssertTrue(x.requiresGrad)
        XCTAssertNil(x.grad)
        try (x * x).sum().backward()
        XCTAssertEqual(try XCTUnwrap(x.grad).floats(), [2, 4, 6])
        try (x * 3).backward(Tensor([1, 1, 1] as [Float]))   // accumulates
        XCTAssertEqual(try XCTUnwrap(x.grad).floats(), [5, 7, 9])
        x.zeroGrad()
        XCTAssertNil(x.grad)
        // detach stops the gradient
        try (x.detach() * x).sum().backward()
        XCTAssertEqual(try XCTUnwrap(x.grad).floats(), [1, 2, 3])
        // no-grad scope
        let y = try Tensor.noGrad { try x * 2 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(Tensor.isGradEnabled)
        XCTAssertTrue(try (x * 2).requiresGrad)
        // non-scalar backward without gradient is an error
        XCTAssertThrowsError(try (x * 2).backward()) { XCTAssert("\($0)".contains("scalar"), "\($0)") }
    }

    func testChannelsLastKeepsValuesAndShape() throws {
        let x = try Tensor.randn([2, 3, 4, 5])
        XCTAssertFalse(x.isChannelsLast)
        let y = try x.channelsLast()
        XCTAssertTrue(y.isChannelsLast)
        XCTAssertEqual(y.shape, [2, 3, 4, 5])
        XCTAssertEqual(try y.floats(), try x.floats())              // read out in logical (C) order
        XCTAssertTrue(try y.contiguous().isContiguous)
        // A convolution of the channels-last tensor gives the NCHW result.
        let conv = Conv2d(3, 6, kernelSize: 3, padding: 1)
        for (a, b) in zip(try conv(y).floats(), try conv(x).floats()) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // GroupNorm normalises a channels-last input as NCHW: same values.
        let norm = GroupNorm(groups: 3, channels: 3)
        for (a, b) in zip(try norm(y).floats(), try norm(x).floats()) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertThrowsError(try Tensor.zeros([3, 4]).channelsLast()) { XCTAssert("\($0)".contains("[3, 4]") && "\($0)".contains("4-D"), "\($0)") }
    }

    func testConvolutionsInBFloat16() throws {
        let x = try Tensor.randn([2, 8, 6, 6])
        let conv = Conv2d(8, 16, kernelSize: 3, padding: 1)
        let exact = try conv(x)
        let g = try Tensor.randn([2, 16, 6, 6])
        try (exact * g).sum().backward()
        let exactGrad = try XCTUnwrap(conv.weight.grad).floats()
        conv.zeroGrad()

        XCTAssertFalse(Tensor.areConvolutionsInBFloat16)
        let rounded = try Tensor.convolutionsInBFloat16 {
            XCTAssertTrue(Tensor.areConvolutionsInBFloat16)
            return try conv(x)
        }
        XCTAssertFalse(Tensor.areConvolutionsInBFloat16)
        XCTAssertEqual(rounded.dtype, .float32)
        XCTAssertEqual(rounded.shape, [2, 16, 6, 6])
        XCTAssertTrue(rounded.isContiguous)
        // The reference: inputs rounded to bfloat16, the convolution in float64, the output rounded
        // to bfloat16 (2^-8 relative).
        func bf16(_ t: Tensor) throws -> Tensor { try t.to(.bfloat16).to(.float64) }
        let reference = try F.conv2d(bf16(x), bf16(conv.weight), conv.bias.map(bf16), padding: 1).doubles()
        let got = try rounded.floats(), full = try exact.floats()
        var differs = 0
        for i in got.indices {
            XCTAssertEqual(Double(got[i]), reference[i], accuracy: 1e-3 + abs(reference[i]) / 256, "output \(i)")
            if abs(got[i] - full[i]) > 1e-5 { differs += 1 }
        }
        XCTAssertGreaterThan(differs, got.count / 2, "the convolution did not run in bfloat16")
        // Gradients reach the float32 weight through the casts, close to the float32 ones.
        try (rounded * g).sum().backward()
        let grad = try XCTUnwrap(conv.weight.grad)
        XCTAssertEqual(grad.dtype, .float32)
        let scale = exactGrad.map { abs($0) }.max()!
        for (a, b) in zip(try grad.floats(), exactGrad) { XCTAssertEqual(a, b, accuracy: 0.03 * scale) }

        // Other dtypes are untouched, the flag nests, and a throwing body restores it.
        let x64 = try x.to(.float64), w64 = try conv.weight.to(.float64)
        let inScope = try Tensor.convolutionsInBFloat16 { try F.conv2d(x64, w64, padding: 1) }
        XCTAssertEqual(inScope.dtype, .float64)
        XCTAssertEqual(try inScope.doubles(), try F.conv2d(x64, w64, padding: 1).doubles())
        Tensor.convolutionsInBFloat16 {
            Tensor.convolutionsInBFloat16(false) { XCTAssertFalse(Tensor.areConvolutionsInBFloat16) }
            XCTAssertTrue(Tensor.areConvolutionsInBFloat16)
        }
        struct Failure: Error {}
        XCTAssertThrowsError(try Tensor.convolutionsInBFloat16 { throw Failure() })
        XCTAssertFalse(Tensor.areConvolutionsInBFloat16)
    }

    func testShapeErrorsThrowWithShapes() throws {
        let a = try Tensor.zeros([2, 3]), b = try Tensor.zeros([4, 5])
        XCTAssertThrowsError(try a.matmul(b)) { error in
            let msg = "\(error)"
            XCTAssert(error is TorchError)
            XCTAssert(msg.contains("[2, 3]") && msg.contains("[4, 5]"), msg)
        }
        XCTAssertThrowsError(try F.linear(Tensor.zeros([2, 7]), Tensor.zeros([3, 4]))) { error in
            XCTAssert("\(error)".contains("[2, 7]") && "\(error)".contains("[3, 4]"), "\(error)")
        }
        let conv = Conv2d(3, 8, kernelSize: 3)
        XCTAssertThrowsError(try conv(Tensor.zeros([1, 4, 8, 8]))) { error in
            let msg = "\(error)"
            XCTAssert(msg.contains("[8, 3, 3, 3]") && msg.contains("[1, 4, 8, 8]"), msg)
            XCTAssertFalse(msg.contains("frame #"), "backtrace leaked into the message: \(msg)")
        }
        XCTAssertThrowsError(try a + b) { XCTAssert("\($0)".contains("size of tensor"), "\($0)") }
        XCTAssertThrowsError(try a.reshape([5])) { XCTAssert("\($0)".contains("[5]"), "\($0)") }
        XCTAssertThrowsError(try F.crossEntropy(Tensor.zeros([2, 3]), Tensor(indices: [0, 5])))
        XCTAssertThrowsError(try Tensor.cat([]))
    }

    func testHandlesAreFreedExactlyOnce() throws {
        let before = Torch.handleCounts
        let liveBefore = Torch.liveTensorCount
        for i in 0..<2000 {
            let a = try Tensor.randn([4, 4])
            // temporaries in a single expression, plus out-parameter ops and grads
            let y = try ((a + 1) * a.transpose(0, 1) - a.exp()).sum(dim: 0).softmax(dim: 0)
            _ = try y.topk(2)
            if i % 100 == 0 {
                let p = try Tensor.ones([3]).requiresGrad(true)
                try (p * p).sum().backward()
                _ = p.grad
            }
        }
        let after = Torch.handleCounts
        XCTAssertEqual(Torch.liveTensorCount, liveBefore)
        XCTAssertGreaterThan(after.created - before.created, 2000 * 10)
        XCTAssertEqual(after.created - before.created, after.freed - before.freed)
    }

    func testDeterminism() throws {
        Torch.manualSeed(42)
        let a = try Tensor.randn([16])
        let l1 = Linear(8, 4), c1 = Conv2d(3, 4, kernelSize: 3), e1 = Embedding(10, 4)
        Torch.manualSeed(42)
        let b = try Tensor.randn([16])
        let l2 = Linear(8, 4), c2 = Conv2d(3, 4, kernelSize: 3), e2 = Embedding(10, 4)
        XCTAssertEqual(try a.floats(), try b.floats())
        for (m1, m2) in [(l1, l2), (c1, c2), (e1, e2)] as [(any Module, any Module)] {
            for ((n1, p1), (n2, p2)) in zip(m1.namedParameters, m2.namedParameters) {
                XCTAssertEqual(n1, n2)
                XCTAssertEqual(try p1.floats(), try p2.floats(), n1)
            }
        }
        Torch.manualSeed(43)
        XCTAssertNotEqual(try Tensor.randn([16]).floats(), try a.floats())
    }

    func testThreadDefaults() {
        XCTAssertEqual(Torch.defaultThreadCount(cores: 2, override: nil, waitPolicy: "PASSIVE", spinCount: nil), 2)
        XCTAssertEqual(Torch.defaultThreadCount(cores: 2, override: nil, waitPolicy: nil, spinCount: "10000"), 2)
        XCTAssertEqual(Torch.defaultThreadCount(cores: 2, override: nil, waitPolicy: nil, spinCount: nil), 1)
        XCTAssertEqual(Torch.defaultThreadCount(cores: 2, override: "3", waitPolicy: nil, spinCount: nil), 3)
        XCTAssertEqual(Torch.defaultThreadCount(cores: 2, override: "x", waitPolicy: "PASSIVE", spinCount: nil), 2)
        func env(_ n: String) -> String? { getenv(n).map { String(cString: $0) } }
        XCTAssertEqual(Torch.threads, Torch.defaultThreadCount(
            cores: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), override: env("FRAMECAST_THREADS"),
            waitPolicy: env("OMP_WAIT_POLICY"), spinCount: env("GOMP_SPINCOUNT")))
    }

    func testAllocatorSettingsAreAccepted() {
        // mallopt returns 0 for a setting it refuses; the bootstrap's settings must all hold.
        #if os(Linux)
        XCTAssertTrue(Torch.keepFreedMemory())
        #endif
    }
}
