import NN
import XCTest

/// A test case whose tests run libtorch on 2 threads (both cores, as the CLI does); the previous
/// thread count is restored afterwards, so later suites see the process default.
open class TwoThreadTestCase: XCTestCase {
    private var threadsBefore = 1

    override open func setUp() {
        super.setUp()
        threadsBefore = Torch.threads
        Torch.setThreads(2)
    }

    override open func tearDown() {
        Torch.setThreads(threadsBefore)
        super.tearDown()
    }
}
