import XCTest
import NN

/// The fused float32 attention kernel (attention.cpp) against float64 composite attention:
/// values and all three gradients, causal rows split into blocks, cache-shaped queries (fewer
/// queries than keys), frame bands, and results that do not depend on the thread count.
final class FusedAttentionTests: XCTestCase {
    override func setUp() { Torch.manualSeed(99) }

    /// y and the gradients of Σ y·w with respect to q, k, v.
    func run(_ q: Tensor, _ k: Tensor, _ v: Tensor, _ w: Tensor, causal: Bool, band: (group: Int, groups: Int)? = nil) throws -> [[Double]] {
        let inputs = try [q, k, v].map { try $0.detach().requiresGrad(true) }
        let y = try F.attention(inputs[0], inputs[1], inputs[2], causal: causal, band: band)
        try (y * w.to(y.dtype)).sum().backward()
        return try [y.doubles()] + inputs.map { try XCTUnwrap($0.grad).doubles() }
    }

    func testFusedMatchesFloat64AndIgnoresThreadCount() throws {
        let threads = Torch.threads
        defer { Torch.setThreads(threads); Torch.fusesAttention = true }
        // (lead, tq, tk, d, dv, causal, band): 150 rows cross two 64-row blocks and end off a 16 boundary
        let cases: [([Int], Int, Int, Int, Int, Bool, (group: Int, groups: Int)?)] = [
            ([2, 3], 150, 150, 48, 48, true, nil),
            ([3], 5, 130, 16, 24, true, nil),      // a cache step: the 5 queries are the last of 130 keys
            ([2, 2], 1, 70, 8, 8, true, nil),
            ([2, 3], 33, 40, 16, 8, false, nil),
            ([4], 17, 17, 7, 5, true, nil),
            ([2, 3], 150, 150, 16, 8, true, (13, 3)),  // bands of 3 frames of 13 tokens, starts inside row blocks
            ([3], 20, 90, 8, 8, true, (9, 4)),         // the last 20 of 90 keys, banded
            ([2], 40, 40, 8, 4, true, (1, 5)),          // a band of 5 single tokens
        ]
        for (lead, tq, tk, d, dv, causal, band) in cases {
            let name = "\(lead) tq \(tq) tk \(tk) d \(d) dv \(dv) causal \(causal) band \(band.map { "\($0)" } ?? "none")"
            let q = try Tensor.randn(lead + [tq, d]) * 2.0, k = try Tensor.randn(lead + [tk, d])
            let v = try Tensor.randn(lead + [tk, dv]), w = try Tensor.randn(lead + [tq, dv])
            let reference = try run(q.to(.float64), k.to(.float64), v.to(.float64), w, causal: causal, band: band)
            Torch.fusesAttention = true
            let calls = Torch.fusedAttentionCalls
            Torch.setThreads(1)
            let one = try run(q, k, v, w, causal: causal, band: band)
            Torch.setThreads(2)
            let two = try run(q, k, v, w, causal: causal, band: band)
            XCTAssertEqual(Torch.fusedAttentionCalls - calls, 2, "\(name): fused kernel not used")
            Torch.fusesAttention = false
            XCTAssertFalse(Torch.fusesAttention)
            let composite = try run(q, k, v, w, causal: causal, band: band)
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

    /// A band hides exactly the keys before its first group: the same as an explicit mask, and a
    /// band as wide as the sequence changes nothing.
    func testBandMatchesAnExplicitMask() throws {
        let q = try Tensor.randn([2, 12, 4]), k = try Tensor.randn([2, 12, 4]), v = try Tensor.randn([2, 12, 3])
        // Groups of 3: query i sees keys from 3·(⌊i/3⌋ − 1) on (bands of 2 groups), and none after i.
        let keep = (0..<12).flatMap { i in (0..<12).map { j in j <= i && j >= max(0, (i / 3 - 1) * 3) } }
        let mask = try Tensor(keep.map { $0 ? Float(1) : 0 }, shape: [12, 12]).gt(0.5)
        for fused in [true, false] {
            Torch.fusesAttention = fused
            defer { Torch.fusesAttention = true }
            let banded = try F.attention(q, k, v, causal: true, band: (group: 3, groups: 2))
            assertClose(try banded.doubles(), try F.attention(q, k, v, mask: mask).doubles(), tol: 1e-6, "fused \(fused)")
            let wide = try F.attention(q, k, v, causal: true, band: (group: 3, groups: 4))
            assertClose(try wide.doubles(), try F.attention(q, k, v, causal: true).doubles(), tol: 1e-6, "wide band, fused \(fused)")
        }
        XCTAssertThrowsError(try F.attention(q, k, v, causal: false, band: (group: 3, groups: 2))) { error in
            XCTAssertTrue("\(error)".contains("causal"), "\(error)")
        }
    }
}
