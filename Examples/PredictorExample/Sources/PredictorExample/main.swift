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

// The clip's real frames and actions, to compare with.
let codes = try predictor.tokenizer.encode(video: clip)
let real = try predictor.tokenizer.decodeFrames(codes.codes)
let first = start + predictor.contextFrames - 1
for h in 1...16 {
    let action = Int(codes.actions[first + h - 1])
    let frame = try predictor.step(action: action)
    let truth = real[first + h]
    let mse = zip(frame, truth).map { Double(Int($0) - Int($1)) * Double(Int($0) - Int($1)) }.reduce(0, +) / Double(frame.count)
    let psnr = mse == 0 ? 50 : min(50, 10 * log10(255 * 255 / mse))
    print(String(format: "h = %2d  %-14@ PSNR against the tokenizer's reconstruction %.2f dB", h, predictor.actionNames[action] as NSString, psnr))
}
