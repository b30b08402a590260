import Foundation
@testable import Shrink
import ShrinkTestSupport
import XCTest

/// `Standardization` against scikit-learn's `StandardScaler` (numbers precomputed with
/// scikit-learn 1.9 on the float64 copies of the data), and its model-file metadata.
final class StandardizationTests: XCTestCase {
    /// Badly scaled columns and a constant one (StandardScaler gives it scale 1).
    private let small = try! Dataset(
        features: [1.5, -200.25, 3, 1000.5, 2, -180, 3, 1003.25, -0.75, -210.5, 3, 998,
                   4.25, -190.125, 3, 1010.75, 0.5, -205, 3, 1001, 3, -199.5, 3, 1004.5],
        targets: [0, 1, 0, 1, 0, 1], rows: 6, columns: 4)

    func testStatisticsAndTransformMatchStandardScaler() throws {
        let s = Standardization(fitting: small)
        // StandardScaler().fit(X.astype(np.float64)).mean_ / .scale_
        let means = [1.75, -197.5625, 3.0, 1003.0]
        let scales = [1.620185174601965, 9.978557740642348, 1.0, 4.033712103426983]
        assertClose(s.means.map(Float.init), means, tolerance: 0, relative: 1e-7, "means (Float view)")
        for (a, b) in zip(s.means, means) { XCTAssertEqual(a, b, accuracy: 1e-15 * abs(b), "means") }
        for (a, b) in zip(s.scales, scales) { XCTAssertEqual(a, b, accuracy: 1e-15 * b, "scales") }
        // .transform(X64).astype(np.float32), row-major
        let expected: [Double] = [
            -0.15430335700511932, -0.2693274915218353, 0.0, -0.6197764873504639, 0.15430335700511932, 1.760023832321167, 0.0,
            0.061977650970220566, -1.543033480644226, -1.29653000831604, 0.0, -1.2395529747009277, 1.543033480644226,
            0.7453482151031494, 0.0, 1.9213072061538696, -0.771516740322113, -0.7453482151031494, 0.0, -0.4958212077617645,
            0.771516740322113, -0.19416633248329163, 0.0, 0.3718658983707428]
        let scaled = try s.apply(to: small)
        XCTAssertEqual(scaled.features.map(Double.init), expected, "computed in Double, rounded once to Float")
        XCTAssertEqual(scaled.targets, small.targets)
    }

    /// The real breast_cancer data (30 columns from 0.001 to 4000): every mean and scale to 1e-13.
    func testBreastCancerStatisticsMatchStandardScaler() throws {
        let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("realdata/breast_cancer")
        let data = try DataLoader.load(data: folder.appendingPathComponent("X.npy"),
                                       targets: folder.appendingPathComponent("y.npy"), targetColumn: nil)
        let means = [
            14.127291743072348, 19.289648528677297, 91.96903329993384, 654.889103814043, 0.09636028129312821,
            0.10434098429781481, 0.08879931578830029, 0.04891914597230428, 0.18116186307792295, 0.06279760972974799,
            0.40517205624515434, 1.2168534254566856, 2.8660592201095474, 40.33707911519887, 0.007040978908565007,
            0.025478138811378913, 0.03189371635352535, 0.011796137079660353, 0.020542298759512197, 0.0037949038734937804,
            16.269189776770887, 25.67722316534113, 107.26121279644421, 880.5831290514901, 0.13236859435565862,
            0.25426504394016597, 0.2721884833807977, 0.11460622294146325, 0.2900755708948799, 0.08394581713895387]
        let scales = [
            3.5209507474778245, 4.297254661177669, 24.27761920056671, 351.6047537432559, 0.014051763940708204,
            0.05276632926730035, 0.07964972549076842, 0.038768732601349956, 0.02739018122527989, 0.007054155945858524,
            0.27706893957491674, 0.551163428166473, 2.0200770819136085, 45.45101323313914, 0.0029998783424485015,
            0.017892435741709328, 0.030159522945847343, 0.006164860738188928, 0.008259104376417142, 0.002643744757260472,
            4.82899258685439, 6.140854306792165, 33.57300156230244, 568.8564586685329, 0.022812357089760597,
            0.1571981707277639, 0.20844087408214695, 0.06567455437427223, 0.061813079191308754, 0.018045389236518636]
        let s = Standardization(fitting: data)
        XCTAssertEqual(s.means.count, 30)
        for j in 0..<30 {
            XCTAssertEqual(s.means[j], means[j], accuracy: 1e-13 * abs(means[j]), "mean \(j)")
            XCTAssertEqual(s.scales[j], scales[j], accuracy: 1e-13 * scales[j], "scale \(j)")
        }
    }

    /// The metadata reads back to the same Doubles, bit for bit; absent keys give nil.
    func testMetadataRoundTripsExactly() throws {
        let s = try Standardization(means: [0.1, 0.1 + 0.2, 1.0 / 3, -123456.789e10, 1e-300, 0, 2.5e-8],
                                    scales: [1, 1, 0.7, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 3e-5, 2.0 / 3])
        let metadata = s.metadata
        XCTAssertEqual(Set(metadata.keys), ["standardize_mean", "standardize_scale"])
        XCTAssertEqual(try Standardization(metadata: metadata), s)
        let json = try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(metadata["standardize_scale"]).utf8)) as? [Double]
        XCTAssertEqual(json?.count, 7, "a JSON array of numbers")
        XCTAssertNil(try Standardization(metadata: ["loss": "bce"]))
        // Through a safetensors file, as train --save writes it.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("standardization-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write([("0.bias", Tensor(shape: [1], values: [0]))], to: url, metadata: metadata)
        let bytes = Array(try Data(contentsOf: url))
        XCTAssertEqual(try Standardization(metadata: try SafeTensors.metadata(bytes, path: url.path)), s)
    }

    func testBadValuesAndMetadataAreErrors() throws {
        XCTAssertThrowsError(try Standardization(means: [0, 1], scales: [1]))
        XCTAssertThrowsError(try Standardization(means: [0], scales: [0]))
        XCTAssertThrowsError(try Standardization(means: [0], scales: [.infinity]))
        XCTAssertThrowsError(try Standardization(means: [.nan], scales: [1]))
        let good = "[1.5,2]"
        for (mean, scale) in [("[1.5,2", good), ("[1.5,x]", good), (good, "[1,nan]"), (good, "[1,2,3]"), (good, "[1,0]"),
                              ("1.5,2", good), ("[1.5,,2]", good), (good, "[]")] {
            XCTAssertThrowsError(try Standardization(metadata: ["standardize_mean": mean, "standardize_scale": scale]),
                                 "\(mean) \(scale)")
        }
        XCTAssertThrowsError(try Standardization(metadata: ["standardize_mean": good]), "scale missing")
        XCTAssertThrowsError(try Standardization(metadata: ["standardize_scale": good]), "mean missing")
        XCTAssertThrowsError(try Standardization(fitting: small).apply(to: try makeDataset(rows: 3, columns: 5, loss: .mse)))
    }
}
