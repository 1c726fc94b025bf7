import Foundation
import Media
import Prior
import VQVAE

/// The HTML of `framecast report`: one self-contained page (PNG plots and H.264 videos embedded as
/// data URIs). A small script records whether every image decoded and every video loaded in
/// `#media-status`, which Tools/check-report reads back from headless Chromium.
package struct ReportPage {
    package struct Video {
        package var title: String
        package var mp4: Data
    }

    package var tokenizerPath: String
    package var priorPath: String
    package var clips: [String]
    package var tokenizerConfig: VQVAEConfig
    package var priorConfig: PriorConfig
    package var tokenizerParameters: Int
    package var priorParameters: Int
    package var tokenizer: TokenizerEvaluation
    package var rollouts: RolloutEvaluation.Report
    package var tokenizerLog: TrainingLog
    package var priorLog: TrainingLog
    package var videos: [Video]

    package func html() throws -> String {
        var body: [String] = []
        body.append("<h1>framecast report</h1>")
        body.append("<p>Validation clips: \(clips.map { "<code>\(escape($0))</code>" }.joined(separator: ", ")). Generated \(escape(ISO8601DateFormatter().string(from: Date()))).</p>")
        body.append(table(["", "checkpoint", "configuration", "parameters"], [
            ["tokenizer", code(tokenizerPath),
             "\(tokenizerConfig.frameWidth)×\(tokenizerConfig.frameHeight) frames → \(tokenizerConfig.gridWidth)×\(tokenizerConfig.gridHeight) codes, K = \(tokenizerConfig.codebookSize), D = \(tokenizerConfig.codeDim)",
             grouped(tokenizerParameters)],
            ["prior", code(priorPath),
             "\(priorConfig.layers) layers, width \(priorConfig.width), \(priorConfig.heads) heads, \(priorConfig.contextFrames) context frames, \(priorConfig.actionCount) actions",
             grouped(priorParameters)],
        ]))

        body.append("<h2>Tokenizer</h2>")
        let t = tokenizer
        body.append(table(["frames", "PSNR (dB, per frame, capped at 50)", "PSNR of mean MSE", "SSIM", "sharpness (edge detail vs source)", "codes used", "perplexity", "bits/frame", "compression"], [[
            "\(t.frames)", f(t.psnr), f(t.psnrOfMeanMSE), f(t.ssim, 3), f(t.sharpness, 3), "\(t.codesUsed)/\(t.codebookSize) (\(f(t.usage * 100, 1)) %)",
            f(t.perplexity, 1), f(t.bitsPerFrame, 0), "\(f(t.compressionRatio, 1))×",
        ]]))
        if let counts = t.codeCounts { body.append(image(usagePlot(counts), alt: "codebook usage")) }
        if let plot = curves(tokenizerLog, title: "TOKENIZER TRAINING: PSNR (DB)", keys: [("psnr", "TRAIN BATCH"), ("val_psnr", "VALIDATION")]) {
            body.append(image(plot, alt: "tokenizer training curve"))
        }

        body.append("<h2>Prior</h2>")
        if let tf = rollouts.teacherForced {
            body.append("<p>Teacher-forced bits per code token on the validation clips (lower is better):</p>")
            body.append(table(["prior", "prior, shuffled actions", "prior, no actions", "unigram baseline", "copy-previous baseline"], [[
                f(tf.bitsPerToken, 3), f(tf.shuffledActionBitsPerToken, 3), f(tf.noActionBitsPerToken, 3), f(tf.unigramBitsPerToken, 3), f(tf.copyPreviousBitsPerToken, 3),
            ]]))
        }
        let r = rollouts
        body.append("<p>Open-loop rollouts: \(r.windows) windows, \(r.contextFrames) real context frames, then \(r.horizon) predicted frames. PSNR per frame (dB, capped at 50) / SSIM at horizon h. ΔPSNR (true − shuffled actions, mean over h = 1…8): greedy <b>\(f(r.deltaPSNRGreedy)) dB</b>, sampled <b>\(f(r.deltaPSNRSampled)) dB</b>. Rollout speed \(f(r.framesPerSecond, 1)) frames/s. Action guidance w = \(f(r.actionGuidance)) (1 = none; u conditions on the previous action).</p>")
        let shown = [1, 2, 4, 8, 12, 16].filter { $0 <= r.horizon }
        let rows: [(String, RolloutEvaluation.Curve)] = [
            ("prior, greedy", r.greedy), ("prior, greedy, shuffled actions", r.greedyShuffled),
            ("prior, T = 1", r.sampled), ("prior, T = 1, shuffled actions", r.sampledShuffled),
            ("copy last frame", r.copyLast), ("copy last frame's codes", r.copyLastCodes), ("tokenizer ceiling", r.tokenizerCeiling),
        ]
        body.append(table(["h"] + shown.map(String.init), rows.map { name, curve in
            [name] + shown.map { "\(f(curve.psnr[$0 - 1])) / \(f(curve.ssim[$0 - 1], 3))" }
        }))
        body.append(image(RolloutEvaluation.plot(r), alt: "rollout PSNR and SSIM against the horizon"))
        if let plot = curves(priorLog, title: "PRIOR TRAINING: BITS PER TOKEN",
                             keys: [("bits_per_token", "TRAIN BATCH"), ("val_bits_per_token", "VALIDATION"), ("val_shuffled_bits_per_token", "VALIDATION, SHUFFLED ACTIONS")]) {
            body.append(image(plot, alt: "prior training curve"))
        }

        body.append("<h2>Videos</h2>")
        for v in videos {
            body.append("<figure><video controls muted loop autoplay playsinline src=\"data:video/mp4;base64,\(v.mp4.base64EncodedString())\"></video><figcaption>\(escape(v.title))</figcaption></figure>")
        }
        body.append("<pre id=\"media-status\">checking media…</pre>")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>framecast report</title>
            <style>
            body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
            table { border-collapse: collapse; margin: 0.5em 0 1em; } td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
            td:first-child, th:first-child { text-align: left; } img, video { max-width: 100%; image-rendering: pixelated; }
            figure { margin: 1em 0; } figcaption { font-size: 0.9em; color: #555; } #media-status { color: #888; font-size: 0.8em; }
            </style></head><body>
            \(body.joined(separator: "\n"))
            <script>
            (function () {
              const images = Array.from(document.images), videos = Array.from(document.querySelectorAll('video'));
              function report() {
                const badImages = images.filter(i => !(i.complete && i.naturalWidth > 0)).length;
                const badVideos = videos.filter(v => !(v.readyState >= 2 && v.videoWidth > 0)).length;
                document.getElementById('media-status').textContent =
                  `images ${images.length - badImages}/${images.length} loaded, videos ${videos.length - badVideos}/${videos.length} loaded`;
              }
              videos.forEach(v => v.addEventListener('loadeddata', report));
              images.forEach(i => i.addEventListener('load', report));
              window.addEventListener('load', report);
              report();
            })();
            </script>
            </body></html>

            """
    }

    // MARK: plots

    /// Codes sorted by how often they were used, as bars.
    private func usagePlot(_ counts: [Int]) -> Canvas {
        let sorted = counts.sorted(by: >)
        let (width, height, left, top, bottom) = (960, 240, 50, 30, 200)
        var canvas = Canvas(width: width, height: height, fill: (255, 255, 255))
        canvas.draw("CODEBOOK USAGE: CODES SORTED BY FREQUENCY (\(counts.filter { $0 > 0 }.count)/\(counts.count) USED)", x: left, y: 8, color: (0, 0, 0))
        let peak = max(1, sorted.first ?? 1)
        let barWidth = max(1, (width - left - 20) / max(1, sorted.count))
        for (i, n) in sorted.enumerated() {
            let h = Int(Double(bottom - top) * Double(n) / Double(peak))
            canvas.fillRect(x: left + i * barWidth, y: bottom - h, width: barWidth, height: h, color: (60, 110, 200))
        }
        canvas.fillRect(x: left, y: bottom, width: width - left - 20, height: 1, color: (0, 0, 0))
        canvas.draw("RANK 1", x: left, y: bottom + 8, color: (0, 0, 0))
        canvas.draw("RANK \(sorted.count)", x: left + sorted.count * barWidth - Canvas.textWidth("RANK \(sorted.count)"), y: bottom + 8, color: (0, 0, 0))
        canvas.draw("MOST USED: \(peak)", x: left, y: bottom + 24, color: (80, 80, 80))
        return canvas
    }

    /// Training curves of `log` for `keys` (log key, legend), or nil when the log has none of them.
    private func curves(_ log: TrainingLog, title: String, keys: [(String, String)]) -> Canvas? {
        let series = keys.enumerated().compactMap { i, key -> LinePlot.Series? in
            let points = log.series(key.0)
            return points.isEmpty ? nil : LinePlot.Series(name: key.1, color: LinePlot.palette[i], points: points)
        }
        guard !series.isEmpty else { return nil }
        return LinePlot(title: title, xLabel: "STEP", series: series).render(width: 960, height: 320)
    }

    // MARK: HTML helpers

    private func image(_ canvas: Canvas, alt: String) -> String {
        let png = (try? PNGWriter.encode(rgb: canvas.rgb, width: canvas.width, height: canvas.height)) ?? Data()
        return "<p><img alt=\"\(escape(alt))\" src=\"data:image/png;base64,\(png.base64EncodedString())\"></p>"
    }

    private func table(_ header: [String], _ rows: [[String]]) -> String {
        "<table><tr>" + header.map { "<th>\($0)</th>" }.joined() + "</tr>"
            + rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private func code(_ s: String) -> String { "<code>\(escape(s))</code>" }
    private func f(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }
    private func grouped(_ n: Int) -> String { String(format: "%.2f M", Double(n) / 1e6) }
}
