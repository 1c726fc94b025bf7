import XCTest
import NN

final class GradcheckTests: XCTestCase {
    override func setUp() { Torch.manualSeed(1234) }

    func r(_ shape: [Int]) throws -> Tensor { try Tensor.randn(shape, dtype: .float64) }

    /// The checker itself must notice a wrong gradient (here: half of x·x is detached).
    func testGradcheckCatchesWrongGradients() throws {
        let mismatch = try gradientMismatch([r([4])]) { try $0[0].detach() * $0[0] }
        XCTAssertNotNil(mismatch)
        XCTAssertNil(try gradientMismatch([r([4])]) { try $0[0] * $0[0] })
    }

    func testMatmulAndLinear() throws {
        try gradcheck("matmul", [r([3, 4]), r([4, 5])]) { try $0[0].matmul($0[1]) }
        try gradcheck("batched matmul", [r([2, 3, 4]), r([4, 2])]) { try $0[0].matmul($0[1]) }
        try gradcheck("linear", [r([2, 3, 4]), r([5, 4]), r([5])]) { try F.linear($0[0], $0[1], $0[2]) }
        try gradcheck("addcmul", [r([2, 3, 4]), r([2, 3, 4]), r([2, 3, 4])]) { try $0[0].addcmul($0[1], $0[2], value: 0.5) }
        try gradcheck("addcmul broadcast", [r([4]), r([2, 3, 4]), r([2, 1, 4])]) { try $0[0].addcmul($0[1], $0[2]) }
    }

    func testConv2d() throws {
        try gradcheck("conv2d", [r([2, 3, 5, 5]), r([4, 3, 3, 3]), r([4])]) {
            try F.conv2d($0[0], $0[1], $0[2], stride: 1, padding: 1)
        }
        try gradcheck("conv2d stride2 groups", [r([1, 4, 6, 6]), r([4, 2, 3, 3])]) {
            try F.conv2d($0[0], $0[1], stride: 2, padding: 1, groups: 2)
        }
        try gradcheck("channelsLast then conv2d", [r([2, 3, 4, 5]), r([4, 3, 3, 3])]) {
            try F.conv2d($0[0].channelsLast(), $0[1], stride: 1, padding: 1)
        }
    }

    func testNorms() throws {
        try gradcheck("groupNorm", [r([2, 4, 3, 3]), r([4]), r([4])]) {
            try F.groupNorm($0[0], groups: 2, weight: $0[1], bias: $0[2])
        }
        try gradcheck("layerNorm", [r([3, 6]), r([6]), r([6])]) {
            try F.layerNorm($0[0], normalizedShape: [6], weight: $0[1], bias: $0[2])
        }
    }

    func testActivations() throws {
        try gradcheck("gelu", [r([10])]) { try $0[0].gelu() }
        try gradcheck("gelu tanh", [r([10])]) { try $0[0].gelu(approximate: true) }
        try gradcheck("silu", [r([10])]) { try $0[0].silu() }
        try gradcheck("softmax", [r([3, 5])]) { try $0[0].softmax(dim: -1) }
        try gradcheck("logSoftmax", [r([3, 5])]) { try $0[0].logSoftmax(dim: 1) }
        try gradcheck("sigmoid/tanh/exp", [r([6])]) { try $0[0].sigmoid() * $0[0].tanh() + $0[0].exp() }
    }

    func testLosses() throws {
        let target = try Tensor(indices: [0, 2, -100, 1])
        try gradcheck("crossEntropy ignore", [r([4, 3])]) { try F.crossEntropy($0[0], target) }
        try gradcheck("crossEntropy smoothing", [r([4, 3])]) { try F.crossEntropy($0[0], target, labelSmoothing: 0.1) }
        let target2d = try Tensor(indices: [0, 1, 2, 1, 0, 2], shape: [1, 2, 3])
        try gradcheck("crossEntropy spatial", [r([1, 3, 2, 3])]) { try F.crossEntropy($0[0], target2d) }
        try gradcheck("mse", [r([2, 5]), r([2, 5])]) { try F.mseLoss($0[0], $0[1]) }
        try gradcheck("l1", [r([7]), r([7])]) { try F.l1Loss($0[0], $0[1], reduction: .sum) }
    }

    func testResampling() throws {
        try gradcheck("pixelShuffle", [r([1, 8, 2, 3])]) { try F.pixelShuffle($0[0], 2) }
        try gradcheck("pixelUnshuffle", [r([1, 2, 4, 4])]) { try F.pixelUnshuffle($0[0], 2) }
        try gradcheck("upsampleNearest", [r([1, 2, 2, 3])]) { try F.upsampleNearest($0[0], scale: 2) }
        try gradcheck("avgPool2d", [r([1, 2, 4, 4])]) { try F.avgPool2d($0[0], kernel: 2) }
    }

    func testIndexing() throws {
        let idx = try Tensor(indices: [3, 0, 3, 1], shape: [2, 2])
        try gradcheck("embedding", [r([5, 3])]) { try F.embedding($0[0], idx) }
        let g = try Tensor(indices: [2, 0, 1, 1, 0, 0], shape: [2, 3])
        try gradcheck("gather", [r([2, 4])]) { try $0[0].gather(dim: 1, index: g) }
        try gradcheck("indexSelect/cat/stack", [r([3, 2]), r([3, 2])]) {
            try Tensor.cat([$0[0].indexSelect(dim: 0, index: Tensor(indices: [2, 0])), Tensor.stack([$0[1], $0[1]]).sum(dim: 0)])
        }
        try gradcheck("permute/slice/narrow", [r([2, 3, 4])]) {
            try $0[0].permute([2, 0, 1]).slice(dim: 0, start: 1, end: 4, step: 2).narrow(dim: 2, start: 1, length: 2)
        }
    }

    func testAttention() throws {
        try gradcheck("bmm", [r([3, 2, 4]), r([3, 4, 2])]) { try $0[0].bmm($0[1]) }
        try gradcheck("attention causal", [r([2, 4, 3]), r([2, 4, 3]), r([2, 4, 3])]) {
            try F.attention($0[0], $0[1], $0[2], causal: true)
        }
        try gradcheck("attention banded", [r([2, 6, 3]), r([2, 6, 3]), r([2, 6, 3])]) {
            try F.attention($0[0], $0[1], $0[2], causal: true, band: (group: 2, groups: 2))
        }
    }

    /// float32 mm/bmm/addmm go libtorch -> `sgemm_` -> oneDNN; check every transpose layout
    /// against float64 (which still uses the reference `dgemm_`) and that routing really happened.
    func testSgemmRoutedToOneDNNMatchesFloat64() throws {
        XCTAssertTrue(Torch.routesGemmToOneDNN)
        let before = Torch.gemmCounts
        let a = try Tensor.randn([37, 53]), b = try Tensor.randn([53, 29])
        let a64 = try a.to(.float64), b64 = try b.to(.float64)
        let cases: [(String, Tensor, Tensor, Tensor, Tensor)] = [
            ("NN", a, b, a64, b64),
            ("TN", try a.transpose(0, 1).contiguous().transpose(0, 1), b, a64, b64),
            ("NT", a, try b.transpose(0, 1).contiguous().transpose(0, 1), a64, b64),
        ]
        for (name, x, y, x64, y64) in cases {
            assertClose(try x.matmul(y).doubles(), try x64.matmul(y64).doubles(), tol: 1e-4, name)
        }
        let p = try Tensor.randn([3, 17, 9]), q = try Tensor.randn([3, 9, 11])
        assertClose(try p.matmul(q).doubles(), try p.to(.float64).matmul(q.to(.float64)).doubles(),
                    tol: 1e-4, "bmm")
        let w = try Tensor.randn([13, 53]).requiresGrad(true), bias = try Tensor.randn([13])
        let y = try F.linear(a, w, bias)
        try y.sum().backward()
        assertClose(try y.doubles(), try F.linear(a64, w.detach().to(.float64), bias.to(.float64)).doubles(), tol: 1e-4, "addmm")
        assertClose(try XCTUnwrap(w.grad).doubles(), try a64.sum(dim: 0).unsqueeze(0).expand([13, 53]).doubles(),
                    tol: 1e-4, "linear dW")
        let after = Torch.gemmCounts
        XCTAssertGreaterThanOrEqual(after.oneDNN - before.oneDNN, 6)
        XCTAssertEqual(after.fallback, before.fallback)
    }

    /// Backward passes in float32 also go through the routed `sgemm_` (transposed and batched
    /// operands, threaded and single-threaded sizes): compare values and grads with float64.
    func testFloat32BackwardThroughOneDNNMatchesFloat64() throws {
        func compare(_ name: String, _ inputs: [Tensor], _ f: ([Tensor]) throws -> Tensor) throws {
            let x32 = try inputs.map { try $0.detach().requiresGrad(true) }
            let x64 = try inputs.map { try $0.detach().to(.float64).requiresGrad(true) }
            let y32 = try f(x32), y64 = try f(x64)
            let w = try Tensor.randn(y32.shape)
            try (y32 * w).sum().backward()
            try (y64 * w.to(.float64)).sum().backward()
            assertClose(try y32.doubles(), try y64.doubles(), tol: 2e-4, "\(name) forward")
            for (i, (a, b)) in zip(x32, x64).enumerated() {
                assertClose(try XCTUnwrap(a.grad).doubles(), try XCTUnwrap(b.grad).doubles(), tol: 2e-4, "\(name) grad \(i)")
            }
        }
        let threads = Torch.threads
        Torch.setThreads(2)   // exercise oneDNN's threaded GEMM too
        defer { Torch.setThreads(threads) }
        let before = Torch.gemmCounts.oneDNN
        try compare("attention", [Tensor.randn([2, 3, 33, 16]), Tensor.randn([2, 3, 40, 16]), Tensor.randn([2, 3, 40, 8])]) {
            try F.attention($0[0], $0[1], $0[2])
        }
        try compare("bmm (batch-parallel)", [Tensor.randn([5, 7, 9]), Tensor.randn([5, 9, 4])]) { try $0[0].bmm($0[1]) }
        try compare("causal attention 4-D", [Tensor.randn([2, 2, 6, 8]), Tensor.randn([2, 2, 6, 8]), Tensor.randn([2, 2, 6, 8])]) {
            try F.attention($0[0], $0[1], $0[2], causal: true)
        }
        try compare("big matmul (threaded)", [Tensor.randn([256, 512]), Tensor.randn([512, 160])]) { try $0[0].matmul($0[1]) }
        try compare("linear 3-D", [Tensor.randn([4, 9, 24]), Tensor.randn([12, 24]), Tensor.randn([12])]) {
            try F.linear($0[0], $0[1], $0[2])
        }
        XCTAssertGreaterThan(Torch.gemmCounts.oneDNN - before, 10)
    }
}
