import FramecastKit
import Foundation

// Predicts 16 frames of a shipped clip under a short action script with the shipped model and
// prints how far each predicted frame is from the real one (PSNR, dB). Run from the repository
// root, or pass the repository's path as the first argument.
let root = CommandLine.arguments.dropFirst().first ?? FileManager.default.currentDirectoryPath
let predictor = try Predictor(tokenizer: root + "/Models/default/tokenizer.safetensors",
                              prior: root + "/Models/default/prior.safetensors")
let clip = root + "/Clips/my_way_home_s3.mp4"
let start = 40
let context = try predictor.reset(video: clip, start: start)
print("actions: \(predictor.actionNames.joined(separator: ", "))")
print("context: \(context.count) frames of \(predictor.frameWidth)x\(predictor.frameHeight) from \(clip) at frame \(start)")

/// PSNR (dB, capped at 50) of two frames of bytes.
func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
    var sum = 0.0
    for (x, y) in zip(a, b) {
        let d = Double(x) - Double(y)
        sum += d * d
    }
    let mse = sum / Double(a.count)
    return mse == 0 ? 50 : min(50, 10 * log10(255 * 255 / mse))
}

// The clip's real actions, and its frames as the tokenizer reconstructs them, to compare with.
let codes = try predictor.tokenizer.encode(video: clip)
let real = try predictor.tokenizer.decodeFrames(codes.codes)
let first = start + predictor.contextFrames - 1
for h in 1...16 {
    let action = Int(codes.actions[first + h - 1])
    let frame = try predictor.step(action: action)
    let name = predictor.actionNames[action].padding(toLength: 24, withPad: " ", startingAt: 0)
    print(String(format: "h = %2d  ", h) + name + String(format: " PSNR against the reconstructed real frame %.2f dB", psnr(frame, real[first + h])))
}
