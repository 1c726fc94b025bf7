import XCTest
import NN

final class ModuleTests: XCTestCase {
    func testNamesShapesAndInitBounds() throws {
        Torch.manualSeed(0)
        let block = ResidualBlock(16, 32)
        XCTAssertEqual(block.namedParameters.map { $0.0 }, [
            "norm1.weight", "norm1.bias", "conv1.weight", "conv1.bias",
            "norm2.weight", "norm2.bias", "conv2.weight", "conv2.bias", "skip.weight", "skip.bias",
        ])
        XCTAssertEqual(block.conv1.weight.shape, [32, 16, 3, 3])
        XCTAssertEqual(block.skip?.weight.shape, [32, 16, 1, 1])
        XCTAssertEqual(block.norm1.groups, 16)
        XCTAssertTrue(block.parameters.allSatisfy { $0.requiresGrad })
        let y = try block(Tensor.randn([2, 16, 8, 8]))
        XCTAssertEqual(y.shape, [2, 32, 8, 8])
        XCTAssertEqual(ResidualBlock(8, 8).namedParameters.count, 8)

        let lin = Linear(100, 10)
        let bound = Float(1 / 10.0)  // 1/sqrt(100)
        XCTAssertLessThanOrEqual(try lin.weight.abs().max().scalar(), bound)
        XCTAssertGreaterThan(try lin.weight.abs().max().scalar(), 0.9 * bound)
        XCTAssertEqual(try LayerNorm(4).weight?.floats(), [1, 1, 1, 1])
        XCTAssertEqual(try Linear(3, 2)(Tensor.zeros([5, 7, 3])).shape, [5, 7, 2])
        XCTAssertEqual(try Embedding(10, 6)(Tensor(indices: [1, 2, 3], shape: [1, 3])).shape, [1, 3, 6])
    }

    func testLoadByName() throws {
        let a = Linear(3, 2), b = Linear(3, 2)
        try b.load(Dictionary(uniqueKeysWithValues: a.namedParameters))
        XCTAssertEqual(try a.weight.floats(), try b.weight.floats())
        XCTAssertThrowsError(try b.load(["weight": Tensor.zeros([2, 3])]))  // bias missing
        XCTAssertThrowsError(try b.load(["weight": Tensor.zeros([3, 3]), "bias": Tensor.zeros([2])]))
    }
}

final class OptimTests: XCTestCase {
    /// Two AdamW steps on a tiny tensor against the formula evaluated in Swift.
    func testAdamWMatchesFormula() throws {
        let p0: [Double] = [1.0, -2.0, 0.5]
        let grads: [[Double]] = [[0.1, -0.3, 2.0], [-0.2, 0.4, 1.0]]
        let (lr, b1, b2, eps, wd) = (0.01, 0.9, 0.999, 1e-8, 0.1)
        let p = try Tensor(p0).requiresGrad(true)
        let opt = AdamW([("p", p)], lr: lr, betas: (b1, b2), eps: eps, weightDecay: wd)
        var ref = p0, m = [0.0, 0, 0], v = [0.0, 0, 0]
        for (t, g) in grads.enumerated() {
            opt.zeroGrad()
            try (p * Tensor(g)).sum().backward()   // grad = g
            try opt.step()
            let step = Double(t + 1)
            for i in 0..<3 {
                ref[i] *= 1 - lr * wd
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                let mhat = m[i] / (1 - Foundation.pow(b1, step))
                let vhat = v[i] / (1 - Foundation.pow(b2, step))
                ref[i] -= lr * mhat / (vhat.squareRoot() + eps)
            }
            assertClose(try p.doubles(), ref, tol: 1e-12, "step \(t + 1)")
        }
        XCTAssertEqual(opt.step, 2)
        XCTAssertEqual(opt.namedState.map { $0.0 }, ["p.exp_avg", "p.exp_avg_sq"])
        assertClose(try XCTUnwrap(opt.state["p"]).expAvg.doubles(), m, tol: 1e-12, "exp_avg")
        assertClose(try XCTUnwrap(opt.state["p"]).expAvgSq.doubles(), v, tol: 1e-12, "exp_avg_sq")
    }

    func testRegressionLossGoesDown() throws {
        Torch.manualSeed(3)
        let x = try Tensor.randn([256, 8])
        let trueW = try Tensor.randn([8, 2])
        let y = try x.matmul(trueW) + 0.5
        let model = Linear(8, 2)
        let schedule = WarmupCosine(peak: 0.05, warmupSteps: 10, totalSteps: 300, floor: 0.001)
        let opt = AdamW(model.namedParameters(prefix: "head"), weightDecay: 0, decays: { !$0.hasSuffix("bias") })
        var first = 0.0, last = 0.0
        for step in 1...300 {
            opt.zeroGrad()
            let loss = try F.mseLoss(model(x), y)
            try loss.backward()
            try opt.clipGradNorm(10)
            try opt.step(lr: schedule(step))
            if step == 1 { first = try loss.item() }
            last = try loss.item()
        }
        XCTAssertLessThan(last, first * 1e-3, "loss \(first) -> \(last)")
        XCTAssertLessThan(last, 1e-3)
    }

    func testClipGradNorm() throws {
        let a = try Tensor([3, 0] as [Float]).requiresGrad(true), b = try Tensor([4] as [Float]).requiresGrad(true)
        try ((a * a).sum() * 0.5 + (b * b).sum() * 0.5).backward()  // grads = values, norm 5
        let opt = AdamW([("a", a), ("b", b)])
        XCTAssertEqual(try opt.clipGradNorm(1), 5, accuracy: 1e-6)
        assertClose(try XCTUnwrap(a.grad).floats(), [0.6, 0], tol: 1e-5)
        assertClose(try XCTUnwrap(b.grad).floats(), [0.8], tol: 1e-5)
    }

    func testSchedule() {
        let s = WarmupCosine(peak: 1, warmupSteps: 10, totalSteps: 110, floor: 0.1)
        XCTAssertEqual(s(5), 0.5, accuracy: 1e-12)
        XCTAssertEqual(s(10), 1, accuracy: 1e-12)
        XCTAssertEqual(s(60), 0.55, accuracy: 1e-12)
        XCTAssertEqual(s(110), 0.1, accuracy: 1e-12)
        XCTAssertEqual(s(500), 0.1, accuracy: 1e-12)
    }

    func testStateRoundTrip() throws {
        let p = try Tensor([1, 2] as [Float]).requiresGrad(true)
        let opt = AdamW([("w", p)])
        try (p * p).sum().backward()
        try opt.step()
        let saved = try Dictionary(uniqueKeysWithValues: opt.namedState.map { ($0.0, try $0.1.clone()) })
        let opt2 = AdamW([("w", p)])
        try opt2.loadState(saved, step: opt.step)
        XCTAssertEqual(opt2.step, 1)
        XCTAssertEqual(try XCTUnwrap(opt2.state["w"]).expAvg.floats(), try XCTUnwrap(opt.state["w"]).expAvg.floats())
    }
}

final class PyTorchParityTests: XCTestCase {
    /// Reference values printed by Debian's PyTorch 1.13 (same libtorch):
    /// `torch.manual_seed(42); nn.Linear(8, 4); nn.Conv2d(3, 4, 3); nn.Embedding(10, 4)`.
    func testInitMatchesPyTorchForSameSeed() throws {
        Torch.manualSeed(42)
        let l = Linear(8, 4), c = Conv2d(3, 4, kernelSize: 3), e = Embedding(10, 4)
        assertClose(Array(try l.weight.floats().prefix(4)), [0.270305, 0.293452, -0.082828, 0.324778], tol: 2e-6, "Linear.weight")
        assertClose(Array(try XCTUnwrap(l.bias).floats().prefix(2)), [0.272953, 0.058838], tol: 2e-6, "Linear.bias")
        assertClose(Array(try c.weight.floats().prefix(3)), [0.029993, 0.155493, 0.021039], tol: 2e-6, "Conv2d.weight")
        assertClose(Array(try e.weight.floats().prefix(3)), [0.269482, -0.210376, -0.732803], tol: 2e-6, "Embedding.weight")
        Torch.manualSeed(42)
        assertClose(try Tensor.randn([3]).floats(), [0.33669, 0.128809, 0.234462], tol: 2e-6, "randn")
    }
}

final class GemmRoutingTests: XCTestCase {
    /// libtorch's float32 products go to oneDNN (found at run time, with no link-time paths) and
    /// give the float64 product.
    func testFloat32ProductsAreRoutedToOneDNNAndCorrect() throws {
        let before = Torch.gemmCounts
        let a = try Tensor.randn([33, 17]), b = try Tensor.randn([17, 29])
        let product = try a.matmul(b).doubles()
        let reference = try a.to(.float64).matmul(b.to(.float64)).doubles()
        XCTAssertEqual(product.count, 33 * 29)
        for (x, y) in zip(product, reference) { XCTAssertEqual(x, y, accuracy: 1e-4) }
        XCTAssertGreaterThan(Torch.gemmCounts.oneDNN, before.oneDNN, "the product did not reach oneDNN")
    }
}
