import Foundation
import Shrink
import XCTest

/// `shrink fit` and `shrink path` with the multinomial loss (ce), through the built binary.
final class SolverCLITests: XCTestCase {
    private var folder: URL!
    private let sklearn = CLI.testsFolder.appendingPathComponent("ShrinkTests/Fixtures/sklearn")

    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// The saved nn.Linear(10, 3) equals scikit-learn's multinomial L1 LogisticRegression
    /// (saga, tol 1e-12) within 1e-4, intercepts centered, on every device.
    func testFitMultinomialSavesScikitLearnsSolution() throws {
        let expected = try JSONSerialization.jsonObject(
            with: Data(contentsOf: sklearn.appendingPathComponent("expected.json"))) as! [String: [String: Any]]
        let c = try XCTUnwrap(expected["multinomial-l1"])
        let (coef, intercepts) = (c["coef"] as! [Double], c["intercepts"] as! [Double])
        for device in CLI.devices {
            let model = folder.appendingPathComponent("ce-\(device).safetensors")
            let result = try CLI.run(["fit", "--data", sklearn.appendingPathComponent("X.npy").path,
                                      "--targets", sklearn.appendingPathComponent("yclass.npy").path, "--loss", "ce",
                                      "--alpha", "\(c["alpha"] as! Double)", "--l1-ratio", "1", "--device", device,
                                      "--save", model.path])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("class 2") && result.stdout.contains("(intercept)"), result.stdout)
            let state = try SafeTensors.read(model)
            let weight = try XCTUnwrap(state["0.weight"]), bias = try XCTUnwrap(state["0.bias"])
            XCTAssertEqual(weight.shape, [3, 10])
            XCTAssertEqual(bias.shape, [3])
            for (a, e) in zip(weight.values, coef) { XCTAssertEqual(Double(a), e, accuracy: 1e-4, "\(device) weight") }
            for (a, e) in zip(bias.values, intercepts) { XCTAssertEqual(Double(a), e, accuracy: 1e-4, "\(device) bias") }
            XCTAssertEqual(weight.values.map { $0 == 0 }, coef.map { $0 == 0 }, "\(device): the same exact zeros")
        }
    }

    /// A 3-class path with 3-fold CV: CSV with the class intercepts and coefficients, JSON with
    /// "intercepts", the CV choice printed; the first α has no nonzero coefficient.
    func testPathMultinomialWithCrossValidation() throws {
        let (csv, json) = (folder.appendingPathComponent("p.csv"), folder.appendingPathComponent("p.json"))
        for (out, extra) in [(csv, ["--batched"]), (json, [])] {
            let result = try CLI.run(["path", "--synthetic", "classification:150:4:3", "--loss", "ce", "--l1-ratio", "0.5",
                                      "--n-alphas", "12", "--eps", "0.01", "--cv", "3", "--device", "cpu",
                                      "--out", out.path] + extra)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("cv (3 folds): alpha_min"), result.stdout)
        }
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 13)
        XCTAssertEqual(lines[0], "alpha,nonzeros,objective,train_loss,validation_loss,train_score,validation_score,kkt_violation,converged," +
                       "cv_mean_loss,cv_standard_error,cv_pick,intercept[0],intercept[1],intercept[2]," +
                       (0..<3).flatMap { c in (0..<4).map { "w\($0)[\(c)]" } }.joined(separator: ","))
        XCTAssertEqual(lines[1].split(separator: ",", omittingEmptySubsequences: false)[1], "0")
        XCTAssertEqual(lines[1].split(separator: ",", omittingEmptySubsequences: false)[8], "true")
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        let first = (document["path"] as! [[String: Any]])[0]
        XCTAssertEqual((first["intercepts"] as! [Double]).count, 3)
        XCTAssertEqual((first["coefficients"] as! [Double]).count, 12)
        XCTAssertEqual((first["intercepts"] as! [Double]).reduce(0, +), 0, accuracy: 1e-6, "centered intercepts")
    }

    /// Bad labels for ce, and a class too rare for the folds: one line each, exit 1.
    func testMultinomialBadInputsFailWithOneLine() throws {
        let x = folder.appendingPathComponent("x.csv")
        var text = "a,b,label\n"
        for r in 0..<20 { text += "\(r % 7),\(r % 3),\(r == 5 ? 2 : r % 2)\n" }
        try text.write(to: x, atomically: true, encoding: .utf8)
        let rare = try CLI.run(["path", "--data", x.path, "--loss", "ce", "--cv", "4", "--n-alphas", "3", "--device", "cpu",
                                "--out", folder.appendingPathComponent("p.json").path])
        XCTAssertEqual(rare.status, 1, rare.stdout)
        XCTAssertEqual(rare.stderr.split(separator: "\n").count, 1, rare.stderr)
        XCTAssertTrue(rare.stderr.contains("class 2 has 1 row"), rare.stderr)
        try "a,label\n1,0.5\n2,1\n".write(to: x, atomically: true, encoding: .utf8)
        let fractional = try CLI.run(["fit", "--data", x.path, "--loss", "ce", "--alpha", "0.1", "--device", "cpu"])
        XCTAssertEqual(fractional.status, 1)
        XCTAssertEqual(fractional.stderr.split(separator: "\n").count, 1, fractional.stderr)
        XCTAssertTrue(fractional.stderr.contains("ce targets must be class labels (whole numbers or text): row 1 has 0.5"), fractional.stderr)
    }

    /// Never silent: a path stopped by --max-iterations names each miss on standard error, marks
    /// it "converged": false in the JSON and exits 3 (the file is still written); fit the same.
    /// An explicit --alphas grid (list or file) is used as given; a bad one is a usage error.
    func testUnconvergedExitsThreeAndExplicitGrid() throws {
        let x = sklearn.appendingPathComponent("X.npy").path, y = sklearn.appendingPathComponent("yclass.npy").path
        let json = folder.appendingPathComponent("p.json")
        let early = try CLI.run(["path", "--data", x, "--targets", y, "--loss", "ce", "--n-alphas", "3", "--eps", "0.01",
                                 "--test-split", "0", "--max-iterations", "2", "--device", "cpu", "--out", json.path])
        XCTAssertEqual(early.status, 3, early.stderr)
        XCTAssertTrue(early.stderr.contains("not converged: alpha"), early.stderr)
        let points = (try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any])["path"] as! [[String: Any]]
        XCTAssertTrue(points.contains { $0["converged"] as? Bool == false })
        let fit = try CLI.run(["fit", "--data", x, "--targets", y, "--loss", "ce", "--alpha", "0.002", "--test-split", "0",
                               "--max-iterations", "2", "--device", "cpu"])
        XCTAssertEqual(fit.status, 3, fit.stderr)
        XCTAssertTrue(fit.stdout.contains("NOT CONVERGED"), fit.stdout)
        XCTAssertTrue(fit.stderr.contains("not converged: KKT violation"), fit.stderr)

        let grid = folder.appendingPathComponent("grid.txt")
        try "0.5\n0.1\n0.02\n".write(to: grid, atomically: true, encoding: .utf8)
        for alphas in ["0.5,0.1,0.02", grid.path] {
            let result = try CLI.run(["path", "--data", x, "--targets", sklearn.appendingPathComponent("y.npy").path,
                                      "--alphas", alphas, "--test-split", "0", "--device", "cpu", "--out", json.path])
            XCTAssertEqual(result.status, 0, result.stderr)
            let path = (try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any])["path"] as! [[String: Any]]
            XCTAssertEqual(path.map { $0["alpha"] as! Double }, [0.5, 0.1, 0.02])
            XCTAssertTrue(path.allSatisfy { $0["converged"] as? Bool == true })
        }
        let bad = try CLI.run(["path", "--data", x, "--targets", y, "--alphas", "0.1,-2", "--device", "cpu", "--out", json.path])
        XCTAssertEqual(bad.status, 64, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("--alphas"), bad.stderr)
    }

    /// One class only is an error for bce and ce, in fit and path: one line, exit 1.
    func testSingleClassIsAnError() throws {
        let x = folder.appendingPathComponent("one.csv")
        var text = "a,b,label\n"
        for r in 0..<20 { text += "\(r % 7),\(r % 3),1\n" }
        try text.write(to: x, atomically: true, encoding: .utf8)
        for (command, loss) in [("fit", "bce"), ("fit", "ce"), ("path", "bce"), ("path", "ce")] {
            let extra = command == "fit" ? ["--alpha", "0.1"] : ["--out", folder.appendingPathComponent("p.json").path]
            let result = try CLI.run([command, "--data", x.path, "--loss", loss, "--device", "cpu"] + extra)
            XCTAssertEqual(result.status, 1, "\(command) \(loss): \(result.stdout)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains("one class"), result.stderr)
        }
    }
}
