import CFFmpeg
import Foundation

/// Streams the frames of a video file as packed RGB24 at a chosen size.
///
/// Opens anything FFmpeg can demux and decode (MP4/H.264, MKV/WebM/VP9, AVI/MJPEG, MOV, GIF, ...),
/// picks the best video stream and decodes one frame at a time, so memory does not grow with the
/// video's length.
///
/// ```swift
/// let reader = try VideoReader(path: "clip.mp4", size: (64, 64), fit: .crop)
/// while let frame = try reader.next() { use(frame.rgb) }
/// ```
public final class VideoReader {
    /// The file being read.
    public let path: String
    /// What the container and stream say about the video.
    public let info: VideoInfo
    /// Size of the frames `next()` returns (upright: after the stream's rotation).
    public let outputWidth: Int
    public let outputHeight: Int
    /// How frames are fitted to the output size.
    public let fit: FitMode
    /// Frames returned or skipped so far.
    public private(set) var framesRead = 0

    private let handles: DecoderHandles
    private let scaler: FrameScaler
    private let timeBase: AVRational
    private var draining = false
    private var finished = false

    /// Opens `path` for reading.
    /// - Parameters:
    ///   - size: output (width, height); `nil` keeps the coded size.
    ///   - fit: how to reconcile a different aspect ratio (ignored when `size` is nil).
    public init(path: String, size: (width: Int, height: Int)? = nil, fit: FitMode = .crop) throws {
        _ = quietFFmpegLogs
        self.path = path
        self.fit = fit
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MediaError(path, "no such file")
        }
        guard !isDirectory.boolValue else { throw MediaError(path, "is a directory, not a video file") }
        var fileStatus = stat()
        if stat(path, &fileStatus) == 0, fileStatus.st_mode & S_IFMT != S_IFREG {
            throw MediaError(path, "is not a regular file (a named pipe, socket or device): framecast reads video files")
        }
        guard FileManager.default.isReadableFile(atPath: path) else { throw MediaError(path, "not readable (permission denied)") }
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
           (attributes[.size] as? NSNumber)?.intValue == 0 {
            throw MediaError(path, "file is empty")
        }
        if let size, size.width <= 0 || size.height <= 0 {
            throw MediaError(path, "output size must be positive, got \(size.width)x\(size.height)")
        }

        // `handles` frees whatever was allocated if a later step throws.
        let handles = DecoderHandles()
        var status = avformat_open_input(&handles.format, path, nil, nil)
        guard status >= 0, let formatContext = handles.format else {
            throw MediaError(path, "not a video FFmpeg can read (\(ffmpegErrorString(status)))")
        }
        status = avformat_find_stream_info(formatContext, nil)
        guard status >= 0 else {
            throw MediaError(path, "cannot read stream information (\(ffmpegErrorString(status)))")
        }
        var codec: UnsafePointer<AVCodec>?
        let streamIndex = av_find_best_stream(formatContext, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0)
        guard streamIndex >= 0, let stream = formatContext.pointee.streams[Int(streamIndex)] else {
            throw MediaError(path, "has no video stream (audio-only or data file?)")
        }
        guard let codec else {
            let name = String(cString: avcodec_get_name(stream.pointee.codecpar.pointee.codec_id))
            throw MediaError(path, "no decoder for video codec \(name) in this FFmpeg build")
        }
        guard let context = avcodec_alloc_context3(codec) else { throw MediaError(path, "out of memory") }
        handles.decoder = context
        guard avcodec_parameters_to_context(context, stream.pointee.codecpar) >= 0 else {
            throw MediaError(path, "unsupported codec parameters")
        }
        context.pointee.thread_count = 0  // let FFmpeg pick (frame/slice threads)
        status = avcodec_open2(context, codec, nil)
        guard status >= 0 else { throw MediaError(path, "cannot open the \(String(cString: codec.pointee.name)) decoder (\(ffmpegErrorString(status)))") }
        handles.packet = av_packet_alloc()
        handles.frame = av_frame_alloc()
        guard handles.packet != nil, handles.frame != nil else { throw MediaError(path, "out of memory") }

        let parameters = stream.pointee.codecpar.pointee
        let width = Int(parameters.width), height = Int(parameters.height)
        guard width > 0, height > 0 else { throw MediaError(path, "video stream has no frame size") }
        let sar = av_guess_sample_aspect_ratio(formatContext, stream, nil)
        let pixelAspect = sar.num > 0 && sar.den > 0 ? av_q2d(sar) : 1
        let rate = stream.pointee.avg_frame_rate.num > 0 && stream.pointee.avg_frame_rate.den > 0
            ? stream.pointee.avg_frame_rate : stream.pointee.r_frame_rate
        timeBase = stream.pointee.time_base
        var duration: Double?
        if stream.pointee.duration > 0 && stream.pointee.duration != cff_nopts_value() {
            duration = Double(stream.pointee.duration) * av_q2d(timeBase)
        } else if formatContext.pointee.duration > 0 && formatContext.pointee.duration != cff_nopts_value() {
            duration = Double(formatContext.pointee.duration) / Double(cff_time_base())
        }
        info = VideoInfo(
            container: String(cString: formatContext.pointee.iformat.pointee.name),
            codec: String(cString: codec.pointee.name),
            width: width, height: height, pixelAspect: pixelAspect,
            fps: rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0,
            duration: duration,
            statedFrameCount: stream.pointee.nb_frames > 0 ? Int(stream.pointee.nb_frames) : nil,
            streamIndex: Int(streamIndex),
            rotation: ((Int((cff_stream_display_rotation(stream) / 90).rounded()) % 4 + 4) % 4) * 90)
        self.handles = handles
        // A quarter turn: the scaler fits the coded frame to the transposed size, then it is turned.
        let turned = info.rotation % 180 != 0
        outputWidth = size?.width ?? (turned ? height : width)
        outputHeight = size?.height ?? (turned ? width : height)
        scaler = FrameScaler(outputWidth: turned ? outputHeight : outputWidth, outputHeight: turned ? outputWidth : outputHeight,
                             fit: size == nil ? .stretch : fit, pixelAspect: pixelAspect)
    }


    /// The share of each frame that `fit` leaves out (a crop's cut; 0 for stretch, pad or no size).
    public var cutFraction: Double {
        let turned = info.rotation % 180 != 0
        return fit.cutFraction(width: turned ? info.height : info.width, height: turned ? info.width : info.height,
                               pixelAspect: turned ? 1 / info.pixelAspect : info.pixelAspect,
                               outputWidth: outputWidth, outputHeight: outputHeight)
    }

    /// Decodes and returns the next frame, or `nil` at the end of the video.
    public func next() throws -> Frame? {
        guard try advance(), let decoded = handles.frame else { return nil }
        defer { framesRead += 1; av_frame_unref(decoded) }
        let rgb = Self.rotate(try scaler.convert(decoded, path: path), clockwise: info.rotation,
                              width: scaler.outputWidth, height: scaler.outputHeight)
        let pts = decoded.pointee.best_effort_timestamp
        let time = pts == cff_nopts_value() ? nil : Double(pts) * av_q2d(timeBase)
        return Frame(width: outputWidth, height: outputHeight, rgb: rgb, index: framesRead, time: time)
    }

    /// Decodes the next frame without converting it; returns false at the end of the video.
    /// Counting frames this way is much cheaper than `next()`.
    public func skip() throws -> Bool {
        guard try advance(), let decoded = handles.frame else { return false }
        framesRead += 1
        av_frame_unref(decoded)
        return true
    }

    /// Decodes frames until the end and returns how many there were (from the current position).
    public func countRemaining() throws -> Int {
        var count = 0
        while try skip() { count += 1 }
        return count
    }

    /// `rgb` (packed, `width`×`height`) turned clockwise by 0, 90, 180 or 270 degrees.
    static func rotate(_ rgb: [UInt8], clockwise degrees: Int, width: Int, height: Int) -> [UInt8] {
        guard degrees != 0 else { return rgb }
        var out = [UInt8](repeating: 0, count: rgb.count)
        let outW = degrees == 180 ? width : height
        for y in 0..<height {
            for x in 0..<width {
                let (u, v): (Int, Int)   // where source pixel (x, y) lands
                switch degrees {
                case 90: (u, v) = (height - 1 - y, x)
                case 180: (u, v) = (width - 1 - x, height - 1 - y)
                default: (u, v) = (y, width - 1 - x)
                }
                let s = (y * width + x) * 3, d = (v * outW + u) * 3
                out[d] = rgb[s]; out[d + 1] = rgb[s + 1]; out[d + 2] = rgb[s + 2]
            }
        }
        return out
    }

    /// Feeds packets to the decoder until it yields a frame (true) or the stream ends (false).
    private func advance() throws -> Bool {
        guard !finished, let format = handles.format, let decoder = handles.decoder,
              let packet = handles.packet, let decoded = handles.frame else { return false }
        while true {
            let received = avcodec_receive_frame(decoder, decoded)
            if received >= 0 { return true }
            if received == cff_averror_eof() {
                finished = true
                return false
            }
            guard received == cff_averror_eagain() else {
                throw MediaError(path, "decoding failed at frame \(framesRead) (\(ffmpegErrorString(received)))")
            }
            let read = av_read_frame(format, packet)
            if read == cff_averror_eof() {
                if let pb = format.pointee.pb, pb.pointee.error < 0 {
                    throw MediaError(path, "read error after frame \(framesRead) (\(ffmpegErrorString(pb.pointee.error)))")
                }
                guard !draining else { finished = true; return false }
                draining = true
                _ = avcodec_send_packet(decoder, nil)  // enter draining mode: buffered frames come out
                continue
            }
            guard read >= 0 else {
                throw MediaError(path, "damaged or truncated after frame \(framesRead) (\(ffmpegErrorString(read)))")
            }
            defer { av_packet_unref(packet) }
            guard Int(packet.pointee.stream_index) == info.streamIndex else { continue }
            let sent = avcodec_send_packet(decoder, packet)
            if sent < 0 && sent != cff_averror_eagain() {
                throw MediaError(path, "damaged video data after frame \(framesRead) (\(ffmpegErrorString(sent)))")
            }
        }
    }
}

/// The FFmpeg objects behind a `VideoReader`, freed together exactly once.
private final class DecoderHandles {
    var format: UnsafeMutablePointer<AVFormatContext>?
    var decoder: UnsafeMutablePointer<AVCodecContext>?
    var packet: UnsafeMutablePointer<AVPacket>?
    var frame: UnsafeMutablePointer<AVFrame>?

    deinit {
        av_frame_free(&frame)
        av_packet_free(&packet)
        avcodec_free_context(&decoder)
        avformat_close_input(&format)
    }
}
