import Foundation
@testable import ShrinkCompute
import XCTest

/// The shared logistic/softmax formulas against the textbook forms, where those are exact, and
/// at the magnitudes where the textbook forms overflow.
final class LossFormulaTests: XCTestCase {
    func testAgainstTextbookFormsAndExtremes() {
        for z in [-30.0, -2.5, -1e-3, 0, 0.7, 12] {
            XCTAssertEqual(LossFormula.sigmoid(z), 1 / (1 + exp(-z)), accuracy: 1e-15)
            for y in [0.0, 1.0, 0.25] {
                let p = 1 / (1 + exp(-z))
                XCTAssertEqual(LossFormula.binaryCrossEntropy(logit: z, target: y), -(y * log(p) + (1 - y) * log(1 - p)),
                               accuracy: 1e-12 * (1 + abs(z)))
            }
        }
        XCTAssertEqual(LossFormula.sigmoid(-800.0), 0)
        XCTAssertEqual(LossFormula.sigmoid(Float(800)), 1)
        XCTAssertEqual(LossFormula.binaryCrossEntropy(logit: -800.0, target: 1), 800)   // −log σ(−800)
        XCTAssertEqual(LossFormula.binaryCrossEntropy(logit: Float(40), target: 1), exp(-40), accuracy: 1e-25)
        let z = [0.5, -1.0, 2.0]
        XCTAssertEqual(LossFormula.logSumExp(z), log(z.map(exp).reduce(0, +)), accuracy: 1e-15)
        XCTAssertEqual(LossFormula.logSumExp([1000.0, 1000.0]), 1000 + log(2.0), accuracy: 1e-12)
        let p = LossFormula.softmax([1000.0, 1000.0, -1000.0])
        XCTAssertEqual(p, [0.5, 0.5, 0])
        XCTAssertEqual(LossFormula.softmax(z).enumerated().map { $0.element - exp(z[$0.offset]) / z.map(exp).reduce(0, +) }
            .map(abs).max()!, 0, accuracy: 1e-16)
    }
}
