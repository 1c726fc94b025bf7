import CFFmpeg

/// Converts decoded frames of any pixel format to packed RGB24 at the output size, fitting the
/// picture by crop, stretch or pad. The swscale context is reused while the input keeps its size
/// and format.
final class FrameScaler {
    let outputWidth: Int
    let outputHeight: Int
    let fit: FitMode
    let pixelAspect: Double

    private var context: OpaquePointer?
    private var scaled: UnsafeMutablePointer<AVFrame>?
    private var geometry: Geometry?
    private var sourceKey: (width: Int32, height: Int32, format: Int32, colorspace: UInt32, range: UInt32)?

    /// Where the scaled picture lands: it is scaled to `scaledWidth × scaledHeight`, then the
    /// window at (`cropX`, `cropY`) of the output size is taken (crop), or it is placed at
    /// (`padX`, `padY`) on a black canvas (pad).
    struct Geometry: Equatable {
        var scaledWidth: Int, scaledHeight: Int
        var cropX = 0, cropY = 0
        var padX = 0, padY = 0
    }

    init(outputWidth: Int, outputHeight: Int, fit: FitMode, pixelAspect: Double) {
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
        self.fit = fit
        self.pixelAspect = pixelAspect
    }

    deinit {
        sws_freeContext(context)
        av_frame_free(&scaled)
    }

    /// The scale-and-place plan for a source of `width × height` coded pixels.
    static func geometry(width: Int, height: Int, pixelAspect: Double,
                         outputWidth: Int, outputHeight: Int, fit: FitMode) -> Geometry {
        let sourceAspect = Double(width) * pixelAspect / Double(height)
        let targetAspect = Double(outputWidth) / Double(outputHeight)
        switch fit {
        case .stretch:
            return Geometry(scaledWidth: outputWidth, scaledHeight: outputHeight)
        case .crop:
            if sourceAspect > targetAspect {  // wider: match heights, cut the sides
                let w = max(outputWidth, Int((Double(outputHeight) * sourceAspect).rounded()))
                return Geometry(scaledWidth: w, scaledHeight: outputHeight, cropX: (w - outputWidth) / 2)
            } else {  // taller: match widths, cut top and bottom
                let h = max(outputHeight, Int((Double(outputWidth) / sourceAspect).rounded()))
                return Geometry(scaledWidth: outputWidth, scaledHeight: h, cropY: (h - outputHeight) / 2)
            }
        case .pad:
            if sourceAspect > targetAspect {  // wider: match widths, bars top and bottom
                let h = min(outputHeight, max(1, Int((Double(outputWidth) / sourceAspect).rounded())))
                return Geometry(scaledWidth: outputWidth, scaledHeight: h, padY: (outputHeight - h) / 2)
            } else {
                let w = min(outputWidth, max(1, Int((Double(outputHeight) * sourceAspect).rounded())))
                return Geometry(scaledWidth: w, scaledHeight: outputHeight, padX: (outputWidth - w) / 2)
            }
        }
    }

    /// Converts `frame` to `outputHeight × outputWidth × 3` bytes.
    func convert(_ frame: UnsafeMutablePointer<AVFrame>, path: String) throws -> [UInt8] {
        let source = frame.pointee
        let key = (source.width, source.height, source.format, source.colorspace.rawValue, source.color_range.rawValue)
        if sourceKey == nil || sourceKey! != key {
            try prepare(for: frame, path: path)
            sourceKey = key
        }
        guard let context, let scaled, let geometry else { throw MediaError(path, "scaler not ready") }
        let scaledHeight = frame.pointer(to: \.data)!.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { srcData in
            frame.pointer(to: \.linesize)!.withMemoryRebound(to: Int32.self, capacity: 8) { srcLines in
                scaled.pointer(to: \.data)!.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { dstData in
                    scaled.pointer(to: \.linesize)!.withMemoryRebound(to: Int32.self, capacity: 8) { dstLines in
                        sws_scale(context, srcData, srcLines, 0, source.height, dstData, dstLines)
                    }
                }
            }
        }
        guard Int(scaledHeight) == geometry.scaledHeight else {
            throw MediaError(path, "scaling failed at a frame of \(source.width)x\(source.height)")
        }
        return copyOut(scaled.pointee, geometry)
    }

    /// Copies the visible window of the scaled RGB picture into a packed output buffer.
    private func copyOut(_ scaled: AVFrame, _ g: Geometry) -> [UInt8] {
        let rowBytes = outputWidth * 3
        var out = [UInt8](repeating: 0, count: rowBytes * outputHeight)
        guard let base = scaled.data.0 else { return out }
        let stride = Int(scaled.linesize.0)
        let copyWidth = min(g.scaledWidth, outputWidth) * 3
        let copyHeight = min(g.scaledHeight, outputHeight)
        out.withUnsafeMutableBufferPointer { dst in
            for y in 0..<copyHeight {
                let src = base + (y + g.cropY) * stride + g.cropX * 3
                let dstRow = dst.baseAddress! + (y + g.padY) * rowBytes + g.padX * 3
                dstRow.update(from: src, count: copyWidth)
            }
        }
        return out
    }

    /// (Re)creates the swscale context and the intermediate picture for this source format.
    private func prepare(for frame: UnsafeMutablePointer<AVFrame>, path: String) throws {
        let source = frame.pointee
        guard source.width > 0, source.height > 0, source.format >= 0 else {
            throw MediaError(path, "decoder produced a frame without size or pixel format")
        }
        let g = Self.geometry(width: Int(source.width), height: Int(source.height), pixelAspect: pixelAspect,
                              outputWidth: outputWidth, outputHeight: outputHeight, fit: fit)
        let downscaling = g.scaledWidth * g.scaledHeight < Int(source.width) * Int(source.height)
        let flags = (downscaling ? SWS_AREA : SWS_BICUBIC) | SWS_ACCURATE_RND
        let sourceFormat = AVPixelFormat(rawValue: source.format)
        sws_freeContext(context)
        context = sws_getContext(source.width, source.height, sourceFormat,
                                 Int32(g.scaledWidth), Int32(g.scaledHeight), AV_PIX_FMT_RGB24,
                                 flags, nil, nil, nil)
        guard let context else {
            let name = av_get_pix_fmt_name(sourceFormat).map { String(cString: $0) } ?? "\(source.format)"
            throw MediaError(path, "cannot convert pixel format \(name) to RGB")
        }
        // YUV sources: use the stream's matrix (BT.709 for HD, else BT.601) and range.
        if let descriptor = av_pix_fmt_desc_get(sourceFormat), descriptor.pointee.flags & UInt64(AV_PIX_FMT_FLAG_RGB) == 0 {
            let matrix: Int32 = source.colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709 : SWS_CS_DEFAULT
            let fullRange: Int32 = source.color_range == AVCOL_RANGE_JPEG ? 1 : 0
            _ = sws_setColorspaceDetails(context, sws_getCoefficients(matrix), fullRange,
                                         sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16)
        }
        av_frame_free(&scaled)
        scaled = av_frame_alloc()
        guard let scaled else { throw MediaError(path, "out of memory") }
        scaled.pointee.width = Int32(g.scaledWidth)
        scaled.pointee.height = Int32(g.scaledHeight)
        scaled.pointee.format = AV_PIX_FMT_RGB24.rawValue
        guard av_frame_get_buffer(scaled, 64) >= 0 else { throw MediaError(path, "out of memory") }
        geometry = g
    }
}
