import Dispatch

/// Runs `body(0) … body(count − 1)` on up to `count` threads and returns when all are done.
/// The iterations must touch disjoint memory: the decoder uses it for column panels of a product
/// and for attention heads, which write separate columns and scratch rows.
func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    /// The closure, vouched for: its iterations share nothing mutable.
    struct Iterations: @unchecked Sendable { let body: (Int) -> Void }
    withoutActuallyEscaping(body) { body in
        let iterations = Iterations(body: body)
        DispatchQueue.concurrentPerform(iterations: count) { iterations.body($0) }
    }
}
