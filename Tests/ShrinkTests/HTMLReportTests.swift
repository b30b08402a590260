import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Shrink
import XCTest

/// The report is one page of well-formed inline SVG charts with the sections the issue names.
final class HTMLReportTests: XCTestCase {
    private func svgs(in html: String) -> [String] {
        html.components(separatedBy: "<svg ").dropFirst().map { "<svg " + $0.components(separatedBy: "</svg>")[0] + "</svg>" }
    }

    func testTrainingAndPathSections() throws {
        let data = try SyntheticData.make("regression:120:5", seed: 2)
        let device = TrainingDevices.all[0]
        let trainer = try Trainer(device: device, configuration: TrainingConfiguration(
            architecture: .linear, loss: .mse, optimizer: .sgd(), learningRate: 0.05, penalty: Penalty(l1: 0.01),
            epochs: 6, batchSize: 0, shuffle: false), train: data)
        var epochs: [EpochMetrics] = []
        try trainer.run { epochs.append($0) }
        let path = try RegularizationPath.compute(loss: .mse, l1Ratio: 1, standardize: false, train: data, validation: nil,
                                                  epsilon: 1e-2, count: 12, folds: 3, seed: 0, device: device)
        var report = HTMLReport(title: "Report <test>")
        report.addTraining([(name: "L1", epochs: epochs)])
        report.addPath(path)
        let html = report.html()
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("Report &lt;test&gt;"))
        XCTAssertFalse(html.contains("http://") && !html.contains("http://www.w3.org/2000/svg"), "no network references")
        XCTAssertFalse(html.contains("<script"))
        let charts = svgs(in: html)
        XCTAssertEqual(charts.count, 6, "loss, l1, l2, near_zero, coefficient path, cross-validation")
        for svg in charts {
            let parser = XMLParser(data: Data(svg.utf8))
            XCTAssertTrue(parser.parse(), "an embedded SVG is not well-formed")
        }
        for heading in ["Training loss", "Weight norms", "Sparsity", "Regularization path", "Cross-validation"] {
            XCTAssertTrue(html.contains("<h2>\(heading)</h2>"), heading)
        }
        XCTAssertEqual(charts[4].components(separatedBy: "<polyline").count - 1, 5, "one line per coefficient")
        XCTAssertEqual(charts[5].components(separatedBy: "class=\"error-bar\"").count - 1, 12, "one error bar per α")
        XCTAssertTrue(charts[4].contains(">0.01<") || charts[4].contains(">0.1<"), "log-scale α ticks")
    }
}
