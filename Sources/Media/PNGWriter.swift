import CFFmpeg
import FileOutput
import Foundation

/// Encodes RGB images as PNG with libavcodec's PNG encoder.
public enum PNGWriter {
    /// Encodes `height × width × 3` packed RGB bytes as a PNG file's bytes.
    public static func encode(rgb: [UInt8], width: Int, height: Int) throws -> Data {
        _ = quietFFmpegLogs
        guard width > 0, height > 0, rgb.count == width * height * 3 else {
            throw MediaError("", "PNG image needs width*height*3 bytes, got \(rgb.count) for \(width)x\(height)")
        }
        guard let encoder = avcodec_find_encoder(AV_CODEC_ID_PNG) else { throw MediaError("", "this FFmpeg has no PNG encoder") }
        var context = avcodec_alloc_context3(encoder)
        var frame = av_frame_alloc()
        var packet = av_packet_alloc()
        defer {
            avcodec_free_context(&context)
            av_frame_free(&frame)
            av_packet_free(&packet)
        }
        guard let context, let frame, let packet else { throw MediaError("", "out of memory") }
        context.pointee.width = Int32(width)
        context.pointee.height = Int32(height)
        context.pointee.pix_fmt = AV_PIX_FMT_RGB24
        context.pointee.time_base = AVRational(num: 1, den: 1)
        guard avcodec_open2(context, encoder, nil) >= 0 else { throw MediaError("", "cannot open the PNG encoder") }
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        frame.pointee.format = AV_PIX_FMT_RGB24.rawValue
        guard av_frame_get_buffer(frame, 32) >= 0, let base = frame.pointee.data.0 else { throw MediaError("", "out of memory") }
        let stride = Int(frame.pointee.linesize.0)
        rgb.withUnsafeBufferPointer { src in
            for y in 0..<height {
                (base + y * stride).update(from: src.baseAddress! + y * width * 3, count: width * 3)
            }
        }
        guard avcodec_send_frame(context, frame) >= 0, avcodec_send_frame(context, nil) >= 0,
              avcodec_receive_packet(context, packet) >= 0, let bytes = packet.pointee.data else {
            throw MediaError("", "PNG encoding failed")
        }
        return Data(bytes: bytes, count: Int(packet.pointee.size))
    }

    /// Writes a PNG file atomically (temporary file, then rename).
    public static func write(rgb: [UInt8], width: Int, height: Int, to path: String) throws {
        let data = try encode(rgb: rgb, width: width, height: height)
        try AtomicFile.write(data, to: path)
    }
}
