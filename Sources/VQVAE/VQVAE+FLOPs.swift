extension VQVAE {
    /// Forward-pass FLOPs per frame counted from the convolutions (a multiply-add is 2 FLOPs);
    /// norms, activations and the codebook lookup are comparatively negligible and left out.
    public var forwardFLOPsPerFrame: Double { encoderFLOPsPerFrame + decoderFLOPsPerFrame }

    /// The encoder's share of `forwardFLOPsPerFrame` (frame → z_e).
    public var encoderFLOPsPerFrame: Double {
        let c = config
        let ch = c.levelChannels
        var pixels = (c.frameWidth / 2) * (c.frameHeight / 2)          // after the 2× space-to-depth stem
        var flops = Self.convFLOPs(12, ch[0], 3, pixels)                  // encoder stem
        for (i, n) in ch.enumerated() {
            if i > 0 {
                pixels /= 4
                flops += Self.convFLOPs(ch[i - 1], n, 3, pixels)          // stride-2 down conv
            }
            flops += Double(c.encoderBlocks + (i == ch.count - 1 ? 1 : 0)) * 2 * Self.convFLOPs(n, n, 3, pixels)
        }
        return flops + Self.convFLOPs(ch.last!, c.codeDim, 1, pixels)    // projection to D
    }

    /// The decoder's share of `forwardFLOPsPerFrame` (z_q → frame).
    public var decoderFLOPsPerFrame: Double {
        let c = config
        let ch = c.levelChannels
        var pixels = c.gridWidth * c.gridHeight
        var flops = Self.convFLOPs(c.codeDim, ch.last!, 3, pixels)       // decoder input
        for (i, n) in ch.reversed().enumerated() {
            if i > 0 {
                pixels *= 4
                flops += Self.convFLOPs(ch[ch.count - i], n, 3, pixels)  // conv after 2× upsampling
            }
            flops += Double(c.blocksPerLevel + (i == 0 ? 1 : 0)) * 2 * Self.convFLOPs(n, n, 3, pixels)
        }
        return flops + Self.convFLOPs(ch[0], 12, 3, pixels)              // head before pixel_shuffle
    }

    private static func convFLOPs(_ cin: Int, _ cout: Int, _ k: Int, _ pixels: Int) -> Double {
        2 * Double(cin * cout * k * k * pixels)
    }
}
