extension VQVAE {
    /// Forward-pass FLOPs per frame counted from the convolutions (a multiply-add is 2 FLOPs);
    /// norms, activations and the codebook lookup are comparatively negligible and left out.
    public var forwardFLOPsPerFrame: Double {
        let c = config
        let ch = c.levelChannels
        func conv(_ cin: Int, _ cout: Int, _ k: Int, _ pixels: Int) -> Double { 2 * Double(cin * cout * k * k * pixels) }
        var flops = 0.0
        var pixels = (c.frameWidth / 2) * (c.frameHeight / 2)          // after the 2× space-to-depth stem
        flops += conv(12, ch[0], 3, pixels)                               // encoder stem
        for (i, n) in ch.enumerated() {
            if i > 0 {
                pixels /= 4
                flops += conv(ch[i - 1], n, 3, pixels)                    // stride-2 down conv
            }
            flops += Double(c.blocksPerLevel + (i == ch.count - 1 ? 1 : 0)) * 2 * conv(n, n, 3, pixels)
        }
        flops += conv(ch.last!, c.codeDim, 1, pixels)                     // projection to D
        flops += conv(c.codeDim, ch.last!, 3, pixels)                     // decoder input
        for (i, n) in ch.reversed().enumerated() {
            if i > 0 {
                pixels *= 4
                flops += conv(ch[ch.count - i], n, 3, pixels)             // conv after 2× upsampling
            }
            flops += Double(c.blocksPerLevel + (i == 0 ? 1 : 0)) * 2 * conv(n, n, 3, pixels)
        }
        flops += conv(ch[0], 12, 3, pixels)                               // head before pixel_shuffle
        return flops
    }
}
