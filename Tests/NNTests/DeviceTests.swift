import NN
import XCTest

/// `Torch.setDevice`: a clear error where libtorch has no GPU; where it has one, tensors made
/// there compute what they compute on the CPU.
final class DeviceTests: XCTestCase {
    /// Whether this libtorch can put tensors on a GPU (it is put back on the CPU).
    private var cudaWorks: Bool {
        defer { try? Torch.setDevice(.cpu) }
        return (try? Torch.setDevice(.cuda)) != nil
    }

    func testCUDAWithoutAGPUIsAClearErrorAndTheCPUStays() throws {
        XCTAssertEqual(Torch.device, .cpu)
        if cudaWorks { throw XCTSkip("this libtorch has a GPU: testTensorsOnTheGPUComputeWhatTheyComputeOnTheCPU covers it") }
        XCTAssertThrowsError(try Torch.setDevice(.cuda)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("--device cuda: "), text)
            XCTAssertTrue(text.contains("without CUDA") || text.contains("sees no CUDA device"), text)
        }
        XCTAssertEqual(Torch.device, .cpu)
        XCTAssertEqual(try Tensor([1, 2, 3] as [Float]).matmul(Tensor([4, 5, 6] as [Float])).item(), 32)
        try Torch.setDevice(.cpu)
        XCTAssertEqual(Torch.device, .cpu)
    }

    func testTensorsOnTheGPUComputeWhatTheyComputeOnTheCPU() throws {
        guard cudaWorks else { throw XCTSkip("no GPU here (Debian's libtorch has no CUDA; a PyPI build sees no device)") }
        func run() throws -> (draws: [Float], product: [Float], grad: [Float]) {
            Torch.manualSeed(11)
            let a = try Tensor.randn([8, 16]).requiresGrad(true)
            let values: [Float] = (0..<(16 * 4)).map { i in Float(i % 7) / 7 - 0.4 }
            let b = try Tensor(values, shape: [16, 4])
            let p = try a.matmul(b).softmax(dim: 1)
            try (p * p).sum().backward()
            return (try a.floats(), try p.floats(), try XCTUnwrap(a.grad).floats())
        }
        let cpu = try run()
        try Torch.setDevice(.cuda)
        defer { try? Torch.setDevice(.cpu) }
        XCTAssertEqual(Torch.device, .cuda)
        let gpu = try run()
        XCTAssertEqual(gpu.draws, cpu.draws, "a seed draws the same numbers on either device")
        for (name, g, c) in [("product", gpu.product, cpu.product), ("gradient", gpu.grad, cpu.grad)] {
            let worst = zip(g, c).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-4, name)
        }
    }
}
