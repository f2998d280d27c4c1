import Foundation

/// A dependency-free SVG of the benchmark: the alert latency distribution (percentile curve)
/// and the consumer-group backlog over time while the producer offered its rate.
public enum SVGPlot {
    public static func render(latenciesMicros: [UInt64], lag: [(Double, Int64)], title: String) -> String {
        let width = 900.0, height = 360.0, pad = 50.0
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height * 2 + 40))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(pad)" y="20" font-size="15">\(escape(title))</text>

            """
        let sorted = latenciesMicros.sorted()
        if !sorted.isEmpty {
            // x: percentile on a "nines" scale (0, 90, 99, 99.9, 99.99), y: ms.
            let maxMs = max(1.0, Double(sorted.last!) / 1000)
            func x(_ q: Double) -> Double { pad + (width - 2 * pad) * min(1, -log10(max(1e-5, 1 - q)) / 4) }
            func y(_ ms: Double) -> Double { 30 + (height - pad) * (1 - ms / maxMs) }
            var path = ""
            let n = sorted.count
            for i in stride(from: 0, to: n, by: max(1, n / 2000)) {
                let q = Double(i) / Double(n)
                path += (path.isEmpty ? "M" : "L") + String(format: "%.1f,%.1f ", x(q), y(Double(sorted[i]) / 1000))
            }
            svg += "<text x=\"\(pad)\" y=\"42\">alert latency (XADD → alert read), ms, by percentile; \(n) alerts</text>\n"
            svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\"/>\n"
            for (q, label) in [(0.0, "0"), (0.9, "p90"), (0.99, "p99"), (0.999, "p99.9"), (0.9999, "p99.99")] {
                svg += "<text x=\"\(String(format: "%.0f", x(q)))\" y=\"\(height - 10)\">\(label)</text>\n"
            }
            svg += "<text x=\"5\" y=\"\(String(format: "%.0f", y(maxMs) + 12))\">\(String(format: "%.1f", maxMs)) ms</text>\n"
            svg += "<text x=\"5\" y=\"\(String(format: "%.0f", y(0)))\">0</text>\n"
        }
        if let lastT = lag.last?.0, lastT > 0 {
            let top = height + 40
            let maxLag = Double(max(1, lag.map(\.1).max() ?? 1))
            func x(_ t: Double) -> Double { pad + (width - 2 * pad) * t / lastT }
            func y(_ v: Double) -> Double { top + 20 + (height - pad) * (1 - v / maxLag) }
            let path = lag.enumerated().map { i, sample in
                (i == 0 ? "M" : "L") + String(format: "%.1f,%.1f", x(sample.0), y(Double(sample.1)))
            }.joined(separator: " ")
            svg += "<text x=\"\(pad)\" y=\"\(top)\">consumer-group backlog (lag + pending entries) over time, s; max \(Int(maxLag))</text>\n"
            svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"#2c3e50\" stroke-width=\"2\"/>\n"
            svg += "<text x=\"\(width - pad)\" y=\"\(top + height - 10)\">\(String(format: "%.0f", lastT)) s</text>\n"
        }
        return svg + "</svg>\n"
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
