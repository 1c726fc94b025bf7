import FileOutput
import CFFmpeg
import Foundation

/// Encodes RGB frames into an MP4 file: H.264 (libx264, yuv420p, BT.601 limited range,
/// `+faststart`), or MPEG-4 Part 2 when this FFmpeg has no H.264 encoder.
///
/// Output goes to a hidden temporary file beside the destination and is renamed into place by
/// `finish()`; a writer dropped before `finish()` deletes it, so a failed run never leaves a
/// partial video. Frame `i` gets timestamp `i / fps` and a duration of one frame, so the file
/// holds exactly the frames written. One encoder thread makes identical input give identical bytes.
public final class VideoWriter {
    /// Codecs the writer can use.
    public enum Codec: String, Sendable, CaseIterable {
        case h264, mpeg4
    }

    /// Destination path.
    public let path: String
    public let width: Int
    public let height: Int
    /// Frame rate as written to the file.
    public let fps: Double
    /// The codec actually used.
    public let codec: Codec
    /// Frames accepted so far.
    public private(set) var framesWritten = 0

    private let temporaryPath: String
    /// The destination, written through its temporary file until `finish()`.
    private let output: AtomicFile
    private let handles: EncoderHandles
    private let codecTimeBase: AVRational
    private var finished = false

    /// Creates the temporary output file and opens the encoder.
    /// - Parameters:
    ///   - crf: H.264 constant rate factor (0 = lossless luma, 18 = visually near lossless, 51 = worst).
    ///   - codec: force a codec; by default H.264 when available, else MPEG-4.
    ///   - preset: libx264's speed preset (`ultrafast` … `veryslow`): slower presets spend more
    ///     encoder time for a smaller file at the same quality.
    public init(path: String, width: Int, height: Int, fps: Double, crf: Int = 18, codec: Codec? = nil,
                preset: String = "medium") throws {
        _ = quietFFmpegLogs
        self.path = path
        self.width = width
        self.height = height
        self.fps = fps
        guard width > 0, height > 0 else { throw MediaError(path, "frame size must be positive, got \(width)x\(height)") }
        guard width % 2 == 0, height % 2 == 0 else {
            throw MediaError(path, "yuv420p video needs an even width and height, got \(width)x\(height)")
        }
        guard fps.isFinite, fps > 0, fps <= 1000 else { throw MediaError(path, "fps must be in (0, 1000], got \(fps)") }
        guard (0...51).contains(crf) else { throw MediaError(path, "crf must be 0...51, got \(crf)") }
        let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]
        guard presets.contains(preset) else { throw MediaError(path, "unknown x264 preset \(preset); use one of \(presets.joined(separator: ", "))") }

        do {
            output = try AtomicFile(path)
        } catch let error as AtomicFileError {
            throw MediaError(path, error.reason)
        }
        temporaryPath = output.temporaryPath

        let handles = EncoderHandles(temporaryPath: temporaryPath)
        var chosen: (Codec, UnsafePointer<AVCodec>)?
        for candidate in codec.map({ [$0] }) ?? Codec.allCases {
            let encoder = candidate == .h264 ? avcodec_find_encoder_by_name("libx264") : avcodec_find_encoder(AV_CODEC_ID_MPEG4)
            if let encoder { chosen = (candidate, encoder); break }
        }
        guard let chosen else {
            throw MediaError(path, "this FFmpeg has no \(codec?.rawValue ?? "H.264 or MPEG-4") encoder")
        }
        let (codecKind, encoder) = chosen
        self.codec = codecKind

        var status = avformat_alloc_output_context2(&handles.format, nil, "mp4", temporaryPath)
        guard status >= 0, let format = handles.format else { throw MediaError(path, "cannot create an MP4 muxer (\(ffmpegErrorString(status)))") }
        guard let context = avcodec_alloc_context3(encoder) else { throw MediaError(path, "out of memory") }
        handles.encoder = context
        let rate = av_d2q(fps, 1 << 16)
        codecTimeBase = AVRational(num: rate.den, den: rate.num)
        context.pointee.width = Int32(width)
        context.pointee.height = Int32(height)
        context.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        context.pointee.time_base = codecTimeBase
        context.pointee.framerate = rate
        context.pointee.thread_count = 1  // byte-identical output for identical input
        context.pointee.color_range = AVCOL_RANGE_MPEG
        context.pointee.colorspace = AVCOL_SPC_SMPTE170M
        context.pointee.color_primaries = AVCOL_PRI_SMPTE170M
        context.pointee.color_trc = AVCOL_TRC_SMPTE170M
        context.pointee.gop_size = 60
        if format.pointee.oformat.pointee.flags & cff_fmt_globalheader() != 0 {
            context.pointee.flags |= cff_codec_flag_global_header()
        }
        switch codecKind {
        case .h264:
            av_opt_set(context.pointee.priv_data, "crf", "\(crf)", 0)
            av_opt_set(context.pointee.priv_data, "preset", preset, 0)
            // Identical input ⇒ identical bytes needs one thread and no macroblock-tree rate control:
            // with mbtree on, repeated encodes in one process differed (its SIMD path; measured
            // here with five encodes of the same frames, deterministic with mbtree=0 or no-asm).
            av_opt_set(context.pointee.priv_data, "x264-params", "threads=1:mbtree=0", 0)
        case .mpeg4:
            context.pointee.flags |= AV_CODEC_FLAG_QSCALE
            context.pointee.global_quality = 118 * 2  // FF_QP2LAMBDA × qscale 2
        }
        status = avcodec_open2(context, encoder, nil)
        guard status >= 0 else { throw MediaError(path, "cannot open the \(codecKind.rawValue) encoder (\(ffmpegErrorString(status)))") }

        guard let stream = avformat_new_stream(format, nil) else { throw MediaError(path, "out of memory") }
        stream.pointee.time_base = codecTimeBase
        stream.pointee.avg_frame_rate = rate
        guard avcodec_parameters_from_context(stream.pointee.codecpar, context) >= 0 else {
            throw MediaError(path, "cannot set stream parameters")
        }
        status = avio_open(&format.pointee.pb, temporaryPath, AVIO_FLAG_WRITE)
        guard status >= 0 else { throw MediaError(path, "cannot write (\(ffmpegErrorString(status)))") }
        handles.fileOpen = true
        var options: OpaquePointer?
        av_dict_set(&options, "movflags", "+faststart", 0)
        status = avformat_write_header(format, &options)
        av_dict_free(&options)
        guard status >= 0 else { throw MediaError(path, "cannot write the MP4 header (\(ffmpegErrorString(status)))") }

        handles.frame = av_frame_alloc()
        handles.packet = av_packet_alloc()
        guard let frame = handles.frame, handles.packet != nil else { throw MediaError(path, "out of memory") }
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        frame.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        frame.pointee.color_range = AVCOL_RANGE_MPEG
        frame.pointee.colorspace = AVCOL_SPC_SMPTE170M
        guard av_frame_get_buffer(frame, 64) >= 0 else { throw MediaError(path, "out of memory") }
        handles.rgbFrame = av_frame_alloc()
        guard let rgbFrame = handles.rgbFrame else { throw MediaError(path, "out of memory") }
        rgbFrame.pointee.width = Int32(width)
        rgbFrame.pointee.height = Int32(height)
        rgbFrame.pointee.format = AV_PIX_FMT_RGB24.rawValue
        guard av_frame_get_buffer(rgbFrame, 64) >= 0 else { throw MediaError(path, "out of memory") }
        // Zero the padding beyond each row too: encoders may read it, and uninitialised bytes
        // would make identical input encode differently.
        for buffer in [frame.pointee.buf.0, rgbFrame.pointee.buf.0] {
            if let buffer, let bytes = buffer.pointee.data { memset(bytes, 0, Int(buffer.pointee.size)) }
        }
        handles.scaler = sws_getContext(Int32(width), Int32(height), AV_PIX_FMT_RGB24,
                                        Int32(width), Int32(height), AV_PIX_FMT_YUV420P,
                                        SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nil, nil, nil)
        guard let scaler = handles.scaler else { throw MediaError(path, "cannot create the RGB→YUV converter") }
        _ = sws_setColorspaceDetails(scaler, sws_getCoefficients(SWS_CS_DEFAULT), 1,
                                     sws_getCoefficients(SWS_CS_ITU601), 0, 0, 1 << 16, 1 << 16)
        self.handles = handles
    }

    /// Appends one frame of `height × width × 3` packed RGB bytes.
    public func write(rgb: [UInt8]) throws {
        guard !finished else { throw MediaError(path, "writer already finished") }
        guard rgb.count == width * height * 3 else {
            throw MediaError(path, "frame has \(rgb.count) bytes, expected \(width)x\(height)x3 = \(width * height * 3)")
        }
        guard let frame = handles.frame, let rgbFrame = handles.rgbFrame, let scaler = handles.scaler,
              let rgbBase = rgbFrame.pointee.data.0 else { return }
        guard av_frame_make_writable(frame) >= 0 else { throw MediaError(path, "out of memory") }
        // swscale picks different (not bit-identical) kernels for differently aligned input, so the
        // pixels are first copied into an aligned frame: identical input ⇒ identical bytes.
        let stride = Int(rgbFrame.pointee.linesize.0), rowBytes = width * 3
        rgb.withUnsafeBufferPointer { pixels in
            for y in 0..<height { (rgbBase + y * stride).update(from: pixels.baseAddress! + y * rowBytes, count: rowBytes) }
        }
        _ = rgbFrame.pointer(to: \.data)!.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { srcData in
            rgbFrame.pointer(to: \.linesize)!.withMemoryRebound(to: Int32.self, capacity: 8) { srcLines in
                frame.pointer(to: \.data)!.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { dstData in
                    frame.pointer(to: \.linesize)!.withMemoryRebound(to: Int32.self, capacity: 8) { dstLines in
                        sws_scale(scaler, srcData, srcLines, 0, Int32(height), dstData, dstLines)
                    }
                }
            }
        }
        frame.pointee.pts = Int64(framesWritten)
        try encode(frame)
        framesWritten += 1
    }

    /// Appends a frame; its size must match the writer's.
    public func write(_ frame: Frame) throws {
        guard frame.width == width, frame.height == height else {
            throw MediaError(path, "frame is \(frame.width)x\(frame.height), video is \(width)x\(height)")
        }
        try write(rgb: frame.rgb)
    }

    /// Flushes the encoder, finishes the file and moves it to `path`.
    public func finish() throws {
        guard !finished else { return }
        guard framesWritten > 0 else { throw MediaError(path, "no frames were written") }
        try encode(nil)
        guard let format = handles.format else { return }
        let status = av_write_trailer(format)
        guard status >= 0 else { throw MediaError(path, "cannot finish the MP4 (\(ffmpegErrorString(status)))") }
        handles.closeFile()
        do {
            try output.commit()
        } catch let error as AtomicFileError {
            throw MediaError(path, error.reason)
        }
        handles.temporaryPath = nil
        finished = true
    }

    /// Sends a frame (or `nil` to flush) and writes every packet the encoder returns.
    private func encode(_ frame: UnsafeMutablePointer<AVFrame>?) throws {
        guard let encoder = handles.encoder, let packet = handles.packet, let format = handles.format,
              let stream = format.pointee.streams[0] else { return }
        var status = avcodec_send_frame(encoder, frame)
        guard status >= 0 else { throw MediaError(path, "encoding failed (\(ffmpegErrorString(status)))") }
        while true {
            status = avcodec_receive_packet(encoder, packet)
            if status == cff_averror_eagain() || status == cff_averror_eof() { return }
            guard status >= 0 else { throw MediaError(path, "encoding failed (\(ffmpegErrorString(status)))") }
            if packet.pointee.duration == 0 { packet.pointee.duration = 1 }  // one frame, in codec time base
            // The muxer may have changed the stream time base in write_header: rescale to it.
            av_packet_rescale_ts(packet, codecTimeBase, stream.pointee.time_base)
            packet.pointee.stream_index = 0
            status = av_interleaved_write_frame(format, packet)
            guard status >= 0 else { throw MediaError(path, "cannot write video data (\(ffmpegErrorString(status)))") }
        }
    }
}

/// The FFmpeg objects behind a `VideoWriter`; frees them and deletes an unfinished file.
private final class EncoderHandles {
    var format: UnsafeMutablePointer<AVFormatContext>?
    var encoder: UnsafeMutablePointer<AVCodecContext>?
    var frame: UnsafeMutablePointer<AVFrame>?
    var rgbFrame: UnsafeMutablePointer<AVFrame>?
    var packet: UnsafeMutablePointer<AVPacket>?
    var scaler: OpaquePointer?
    var fileOpen = false
    /// Set while a partial file exists that must be removed if the writer is dropped.
    var temporaryPath: String?

    init(temporaryPath: String) { self.temporaryPath = temporaryPath }

    func closeFile() {
        if fileOpen, let format { avio_closep(&format.pointee.pb) }
        fileOpen = false
    }

    deinit {
        closeFile()
        avformat_free_context(format)
        avcodec_free_context(&encoder)
        av_frame_free(&frame)
        av_frame_free(&rgbFrame)
        av_packet_free(&packet)
        sws_freeContext(scaler)
        if let temporaryPath { unlink(temporaryPath) }
    }
}
