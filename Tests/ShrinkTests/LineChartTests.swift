import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Shrink
import XCTest

final class LineChartTests: XCTestCase {
    /// Counts elements by name, failing on malformed XML.
    private final class Counter: NSObject, XMLParserDelegate {
        var counts: [String: Int] = [:]
        var texts: [String] = []
        private var text = ""
        func parser(_ p: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            counts[name, default: 0] += 1
            text = ""
        }
        func parser(_ p: XMLParser, foundCharacters string: String) { text += string }
        func parser(_ p: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !t.isEmpty { texts.append(t) }
            text = ""
        }
    }

    private func parse(_ svg: String) -> Counter {
        let counter = Counter()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = counter
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        return counter
    }

    func testLossChartHasAxesTicksMarkersAndLegend() {
        let chart = LineChart.lossChart(title: "L1 & <L2>", curves: [
            (name: "L1", losses: [0.9, 0.7, 0.5, 0.3, 0.2]), (name: "L2 \"sq\"", losses: [0.8, 0.6, 0.45, 0.35, 0.25]),
        ])
        let svg = chart.svg()
        let c = parse(svg)
        XCTAssertEqual(c.counts["polyline"], 2)
        XCTAssertEqual(c.counts["circle"], 10, "one marker per point")
        XCTAssertTrue(c.texts.contains("Epochs") && c.texts.contains("Loss"))
        XCTAssertTrue(c.texts.contains("L1 & <L2>"), "the title, escaped and parsed back")
        XCTAssertTrue(c.texts.contains("L2 \"sq\""), "the legend entry")
        for tick in ["0.2", "0.4", "0.6", "0.8", "1.0", "1", "2", "5"] { XCTAssertTrue(c.texts.contains(tick), "tick \(tick) in \(c.texts)") }
    }

    func testPathologicalInputNeverWritesNaN() {
        let cases: [[Double]] = [[], [3], [2, 2, 2], [1, .nan, 3, .infinity, 2], [-1e9, 1e9], [1e-7, 2e-7]]
        for values in cases {
            let svg = LineChart.lossChart(title: "t", curves: [(name: "s", losses: values)]).svg()
            _ = parse(svg)
            XCTAssertFalse(svg.lowercased().contains("nan") || svg.lowercased().contains("inf"), "\(values): \(svg)")
        }
        let broken = parse(LineChart.lossChart(title: "t", curves: [(name: "s", losses: [1, 2, .nan, 3, 4])]).svg())
        XCTAssertEqual(broken.counts["polyline"], 2, "a NaN breaks the line in two")
        XCTAssertEqual(broken.counts["circle"], 4)
    }

    func testNiceTicks() {
        XCTAssertEqual(NiceScale([0.2, 0.9]).ticks.map { NiceScale([0.2, 0.9]).label($0) }, ["0.2", "0.4", "0.6", "0.8", "1.0"])
        XCTAssertEqual(NiceScale([1, 20]).ticks, [0, 5, 10, 15, 20])
        let flat = NiceScale([5, 5])
        XCTAssertLessThan(flat.low, 5); XCTAssertGreaterThan(flat.high, 5)
        XCTAssertEqual(NiceScale([0, 0]).ticks.first, -1)
    }
}
