/// What a video file's container and best video stream say about themselves.
public struct VideoInfo: Sendable, Equatable {
    /// Container format, e.g. "mov,mp4,m4a,3gp,3g2,mj2" (FFmpeg's demuxer name).
    public var container: String
    /// Video codec name, e.g. "h264".
    public var codec: String
    /// Coded width and height in pixels.
    public var width: Int
    public var height: Int
    /// Sample (pixel) aspect ratio; 1 for square pixels.
    public var pixelAspect: Double
    /// Frames per second (average frame rate, else the stream's base rate).
    public var fps: Double
    /// Duration in seconds, when the container knows it.
    public var duration: Double?
    /// Frame count stated by the container, when it states one (not a decoded count).
    public var statedFrameCount: Int?
    /// Index of the chosen video stream in the container.
    public var streamIndex: Int
    /// Clockwise rotation the stream's display matrix asks for (0, 90, 180 or 270; a phone clip
    /// filmed upright is often coded landscape with 90). `VideoReader` applies it, as players do.
    public var rotation: Int = 0

    /// Width the frames are meant to be shown at (coded width × pixel aspect).
    public var displayWidth: Double { Double(width) * pixelAspect }
}

/// How a frame is fitted to a requested output size.
public enum FitMode: String, CaseIterable, Sendable {
    /// Keep the aspect ratio, cut the overflow from both sides (center crop), then scale.
    case crop
    /// Scale to the size, ignoring the aspect ratio.
    case stretch
    /// Keep the aspect ratio, scale to fit inside, and fill the borders with black (letterbox).
    case pad

    /// The share of a `width × height` source (pixel aspect `pixelAspect`, rotation applied) that
    /// this fit leaves out of an `outputWidth × outputHeight` frame: a crop's cut; 0 for stretch and pad.
    public func cutFraction(width: Int, height: Int, pixelAspect: Double = 1, outputWidth: Int, outputHeight: Int) -> Double {
        guard self == .crop, width > 0, height > 0, outputWidth > 0, outputHeight > 0 else { return 0 }
        let source = Double(width) * pixelAspect / Double(height), target = Double(outputWidth) / Double(outputHeight)
        return 1 - min(source, target) / max(source, target)
    }
}

/// One decoded RGB frame: packed `RGBRGB...` rows, no padding.
public struct Frame: Sendable {
    public var width: Int
    public var height: Int
    /// `height * width * 3` bytes.
    public var rgb: [UInt8]
    /// Position in decode order, from 0.
    public var index: Int
    /// Presentation time in seconds, when the stream has one.
    public var time: Double?

    public init(width: Int, height: Int, rgb: [UInt8], index: Int = 0, time: Double? = nil) {
        precondition(rgb.count == width * height * 3, "Frame needs width*height*3 bytes")
        self.width = width
        self.height = height
        self.rgb = rgb
        self.index = index
        self.time = time
    }
}
