import CTorch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

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

    /// Sums the gradients of `parameters` (after `backward`) and `extra` over the ranks, in place:
    /// one collective a training step.
    /// - Throws: `TorchError` naming a parameter without a gradient, or saying that another
    ///   process stopped or cannot be reached (with c10d's message).
    public func sumGradients(of parameters: [(String, Tensor)], with extra: [Tensor], step: Int) throws {
        var tensors: [Tensor] = []
        for (name, p) in parameters {
            guard let g = p.grad else { throw TorchError(op: "data-parallel training", message: "parameter \(name) has no gradient") }
            tensors.append(g)
        }
        do {
            try allReduceSum(tensors + extra)
        } catch {
            throw TorchError(op: "data-parallel training", message: "step \(step): summing the gradients over the \(size) processes failed — another process stopped or cannot be reached (\(error))")
        }
    }

    /// Returns when every rank has called it.
    public func barrier() throws {
        if ct_group_barrier(raw) != 0 { throw TorchError.last("barrier") }
    }
}

extension ProcessGroup {
    /// A TCP port on 127.0.0.1 that nothing listens on now (bound to port 0, then released): a
    /// rendezvous port for local workers.
    public static func freeLocalPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TorchError(op: "free port", message: "cannot open a socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TorchError(op: "free port", message: "cannot bind a socket on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
