import Foundation
import Media

/// A video's frames in batches, decoded on a second thread one batch ahead of the consumer, so
/// video decoding overlaps the tokenizer's work. At most two batches exist at a time: memory does
/// not grow with the video's length.
package final class ReadAheadBatches: @unchecked Sendable {
    // `reader`, `read` and `result` are touched by one side at a time: the queue's block writes
    // them and signals `ready`; `next()` reads them only after waiting on it.
    private let reader: VideoReader
    private let batch: Int
    private let limit: Int
    private let queue = DispatchQueue(label: "framecast.read-ahead")
    private let ready = DispatchSemaphore(value: 0)
    private var result: Result<[UInt8], any Error>?
    private var read = 0
    private var reading = false   // a batch is being read (touched by the consumer only)

    /// Starts decoding the first batch of `batch` frames; with `limit`, stops after that many.
    package init(_ reader: VideoReader, batch: Int, limit: Int? = nil) {
        precondition(batch > 0)
        self.reader = reader
        self.batch = batch
        self.limit = limit ?? .max
        readAhead()
    }

    /// The next batch (packed RGB frames, at most `batch` of them); empty after the last frame
    /// (and on every later call).
    /// - Throws: the error met while decoding this batch; later calls return empty.
    package func next() throws -> [UInt8] {
        guard reading else { return [] }
        ready.wait()
        reading = false
        let bytes = try result!.get()
        result = nil
        if !bytes.isEmpty { readAhead() }
        return bytes
    }

    /// Frames decoded so far (call after `next()` returned an empty batch for the total).
    package var framesRead: Int { read }

    private func readAhead() {
        reading = true
        queue.async { [self] in
            result = Result {
                var bytes: [UInt8] = []
                var frames = 0
                while frames < batch, read < limit, let frame = try reader.next() {
                    bytes += frame.rgb
                    frames += 1
                    read += 1
                }
                return bytes
            }
            ready.signal()
        }
    }
}
