import Foundation

/// A small line chart drawn on a `Canvas`: axes with tick labels, one polyline per series, and a
/// legend. Enough for metric-vs-horizon plots and training curves in reports.
public struct LinePlot: Sendable {
    /// One line: its name in the legend, colour and (x, y) points.
    public struct Series: Sendable {
        public var name: String
        public var color: (UInt8, UInt8, UInt8)
        public var points: [(Double, Double)]

        public init(name: String, color: (UInt8, UInt8, UInt8), points: [(Double, Double)]) {
            self.name = name
            self.color = color
            self.points = points
        }
    }

    public var title: String
    public var xLabel: String
    public var series: [Series]

    public init(title: String, xLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.series = series
    }

    /// Colours for successive series.
    public static let palette: [(UInt8, UInt8, UInt8)] = [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75), (127, 127, 127),
    ]

    /// Draws the plot into `canvas` inside the rectangle (x, y, width, height).
    public func draw(on canvas: inout Canvas, x: Int, y: Int, width: Int, height: Int) {
        canvas.fillRect(x: x, y: y, width: width, height: height, color: (255, 255, 255))
        let all = series.flatMap(\.points).filter { $0.0.isFinite && $0.1.isFinite }
        guard let minX = all.map(\.0).min(), let maxX = all.map(\.0).max(),
              var minY = all.map(\.1).min(), var maxY = all.map(\.1).max() else { return }
        if maxY - minY < 1e-9 { minY -= 1; maxY += 1 }
        let pad = (maxY - minY) * 0.05
        minY -= pad
        maxY += pad
        let left = x + 44, right = x + width - 10, top = y + 20, bottom = y + height - 22 - 10 * series.count
        canvas.draw(title, x: x + 8, y: y + 5, color: (0, 0, 0))
        func px(_ v: Double) -> Int { left + Int(((v - minX) / max(maxX - minX, 1e-9)) * Double(right - left)) }
        func py(_ v: Double) -> Int { bottom - Int(((v - minY) / (maxY - minY)) * Double(bottom - top)) }
        for i in 0...4 {  // horizontal grid lines with y labels
            let v = minY + (maxY - minY) * Double(i) / 4
            canvas.fillRect(x: left, y: py(v), width: right - left, height: 1, color: (225, 225, 225))
            canvas.draw(Self.format(v), x: x + 2, y: py(v) - 3, color: (80, 80, 80))
        }
        canvas.fillRect(x: left, y: top, width: 1, height: bottom - top, color: (0, 0, 0))
        canvas.fillRect(x: left, y: bottom, width: right - left, height: 1, color: (0, 0, 0))
        for v in Self.ticks(minX, maxX) {
            canvas.fillRect(x: px(v), y: bottom, width: 1, height: 3, color: (0, 0, 0))
            let label = Self.format(v)
            canvas.draw(label, x: px(v) - Canvas.textWidth(label) / 2, y: bottom + 5, color: (80, 80, 80))
        }
        canvas.draw(xLabel, x: right - Canvas.textWidth(xLabel), y: bottom - 10, color: (80, 80, 80))
        for (i, s) in series.enumerated() {
            let points = s.points.filter { $0.0.isFinite && $0.1.isFinite }
            for (a, b) in zip(points, points.dropFirst()) {
                line(&canvas, px(a.0), py(a.1), px(b.0), py(b.1), s.color)
            }
            for p in points { canvas.fillRect(x: px(p.0) - 1, y: py(p.1) - 1, width: 3, height: 3, color: s.color) }
            let ly = bottom + 16 + 10 * i
            canvas.fillRect(x: left, y: ly + 3, width: 12, height: 2, color: s.color)
            canvas.draw(s.name, x: left + 16, y: ly, color: (0, 0, 0))
        }
    }

    /// Renders the plot alone as RGB bytes of `width × height`.
    public func render(width: Int, height: Int) -> Canvas {
        var canvas = Canvas(width: width, height: height, fill: (255, 255, 255))
        draw(on: &canvas, x: 0, y: 0, width: width, height: height)
        return canvas
    }

    /// A 2-pixel line from (x0, y0) to (x1, y1).
    private func line(_ canvas: inout Canvas, _ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: (UInt8, UInt8, UInt8)) {
        let steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in 0...steps {
            let t = Double(i) / Double(steps)
            let x = x0 + Int((Double(x1 - x0) * t).rounded()), y = y0 + Int((Double(y1 - y0) * t).rounded())
            canvas.fillRect(x: x, y: y, width: 2, height: 2, color: color)
        }
    }

    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        let span = max(hi - lo, 1e-9)
        let raw = span / 5, magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var out: [Double] = []
        var v = ceil(lo / step) * step
        while v <= hi + 1e-9 { out.append(v); v += step }
        return out
    }

    static func format(_ v: Double) -> String {
        if abs(v) >= 1000 || v == v.rounded() { return String(Int(v.rounded())) }
        return abs(v) >= 10 ? String(format: "%.1f", v) : String(format: "%.2f", v)
    }
}
