import CTorch
import Foundation

/// A group of training processes that average their gradients: libtorch's c10d with Gloo over TCP
/// (CPU). Rank 0 serves the rendezvous store at `host:port`, like torchrun's MASTER_ADDR /
/// MASTER_PORT; every collective is in place and blocks until all ranks take part (or `timeout`
/// passes, or a peer's connection closes: then it throws).
public final class ProcessGroup: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let raw: OpaquePointer

    /// Joins the group; waits up to `timeout` seconds for all `size` processes.
    /// - Throws: `TorchError` with c10d's message (a port in use, a peer that never came, ...).
    public init(host: String, port: Int, rank: Int, size: Int, timeout: Double) throws {
        Torch.bootstrap()
        guard let raw = ct_group_join(host, Int32(port), Int32(rank), Int32(size), Int64(timeout * 1000)) else {
            throw TorchError.last("process group \(host):\(port) (rank \(rank) of \(size))")
        }
        (self.raw, self.rank, self.size) = (raw, rank, size)
    }

    deinit { ct_group_free(raw) }

    /// Sums `tensors` over the ranks, in place (one collective for the whole list, one dtype).
    public func allReduceSum(_ tensors: [Tensor]) throws {
        try Tensor.check("all-reduce", tensors) { handles in
            var list = handles
            return list.withUnsafeMutableBufferPointer { ct_group_allreduce_sum(raw, $0.baseAddress, Int32($0.count)) }
        }
    }

    /// Copies rank `root`'s `tensors` into every rank's, in place.
    public func broadcast(_ tensors: [Tensor], root: Int = 0) throws {
        try Tensor.check("broadcast", tensors) { handles in
            var list = handles
            return list.withUnsafeMutableBufferPointer { ct_group_broadcast(raw, $0.baseAddress, Int32($0.count), Int32(root)) }
        }
    }

    /// Returns when every rank has called it.
    public func barrier() throws {
        if ct_group_barrier(raw) != 0 { throw TorchError.last("barrier") }
    }
}
