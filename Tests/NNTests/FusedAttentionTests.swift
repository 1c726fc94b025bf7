import XCTest
import NN

/// The fused float32 attention kernel (attention.cpp) against float64 composite attention:
/// values and all three gradients, causal rows split into blocks, cache-shaped queries (fewer
/// queries than keys), and results that do not depend on the thread count.
final class FusedAttentionTests: XCTestCase {
    override func setUp() { Torch.manualSeed(99) }

    /// y and the gradients of Σ y·w with respect to q, k, v.
    func run(_ q: Tensor, _ k: Tensor, _ v: Tensor, _ w: Tensor, causal: Bool) throws -> [[Double]] {
        let inputs = try [q, k, v].map { try $0.detach().requiresGrad(true) }
        let y = try F.attention(inputs[0], inputs[1], inputs[2], causal: causal)
        try (y * w.to(y.dtype)).sum().backward()
        return try [y.doubles()] + inputs.map { try XCTUnwrap($0.grad).doubles() }
    }

    func testFusedMatchesFloat64AndIgnoresThreadCount() throws {
        let threads = Torch.threads
        defer { Torch.setThreads(threads); Torch.fusesAttention = true }
        // (lead, tq, tk, d, dv, causal): 150 rows cross two 64-row blocks and end off a 16 boundary
        let cases: [([Int], Int, Int, Int, Int, Bool)] = [
            ([2, 3], 150, 150, 48, 48, true),
            ([3], 5, 130, 16, 24, true),      // a cache step: the 5 queries are the last of 130 keys
            ([2, 2], 1, 70, 8, 8, true),
            ([2, 3], 33, 40, 16, 8, false),
            ([4], 17, 17, 7, 5, true),
        ]
        for (lead, tq, tk, d, dv, causal) in cases {
            let name = "\(lead) tq \(tq) tk \(tk) d \(d) dv \(dv) causal \(causal)"
            let q = try Tensor.randn(lead + [tq, d]) * 2.0, k = try Tensor.randn(lead + [tk, d])
            let v = try Tensor.randn(lead + [tk, dv]), w = try Tensor.randn(lead + [tq, dv])
            let reference = try run(q.to(.float64), k.to(.float64), v.to(.float64), w, causal: causal)
            Torch.fusesAttention = true
            let calls = Torch.fusedAttentionCalls
            Torch.setThreads(1)
            let one = try run(q, k, v, w, causal: causal)
            Torch.setThreads(2)
            let two = try run(q, k, v, w, causal: causal)
            XCTAssertEqual(Torch.fusedAttentionCalls - calls, 2, "\(name): fused kernel not used")
            Torch.fusesAttention = false
            XCTAssertFalse(Torch.fusesAttention)
            let composite = try run(q, k, v, w, causal: causal)
            XCTAssertEqual(Torch.fusedAttentionCalls - calls, 2, "\(name): switch ignored")
            for (i, part) in ["y", "dq", "dk", "dv"].enumerated() {
                assertClose(one[i], reference[i], tol: 1e-4, "\(name) fused \(part)")
                assertClose(composite[i], reference[i], tol: 1e-4, "\(name) composite \(part)")
                XCTAssertEqual(one[i], two[i], "\(name) \(part): 1 vs 2 threads")
            }
        }
    }

    /// Masks, float64 and causal attention with more queries than keys keep the composite path.
    func testUnsupportedOperandsUseTheCompositePath() throws {
        let calls = Torch.fusedAttentionCalls
        let q = try Tensor.randn([2, 6, 4]), k = try Tensor.randn([2, 6, 4])
        let mask = try F.causalMask(6)
        let masked = try F.attention(q, k, k, mask: mask)
        let causal = try F.attention(q, k, k, causal: true)
        _ = try F.attention(q.to(.float64), k.to(.float64), k.to(.float64), causal: true)
        _ = try F.attention(q, try Tensor.randn([2, 4, 4]), try Tensor.randn([2, 4, 4]))
        XCTAssertEqual(Torch.fusedAttentionCalls - calls, 2)   // `causal` and the last one
        assertClose(try masked.doubles(), try causal.doubles(), tol: 1e-5, "mask vs causal")
    }
}
