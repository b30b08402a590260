import Foundation
@testable import Shrink
import ShrinkTestSupport
import XCTest

/// The devices the training tests run on: the CPU and, when present, the first OpenCL device.
enum TrainingDevices {
    static let all: [any Device] = {
        var devices: [any Device] = [CPUDevice()]
        if let info = try? OpenCL.devices().first, let device = try? OpenCLDevice.shared(info) {
            devices.append(device)
        } else {
            print("OpenCL: no platform, skipping the OpenCL half of the training tests")
        }
        return devices
    }()
}

/// A small random dataset (seeded) for `loss`: ce gets `classes` labels, bce 0/1, mse a linear target.
func makeDataset(rows: Int, columns: Int, loss: LossKind, classes: Int = 3, seed: UInt64 = 7) throws -> Dataset {
    var rng = SeededGenerator(seed: seed)
    let x = (0..<(rows * columns)).map { _ in Float(rng.normal()) }
    let y: [Float] = (0..<rows).map { r in
        let s = (0..<columns).reduce(0.0) { $0 + Double(x[r * columns + $1]) * Double($1 % 3 - 1) } + 0.3 * rng.normal()
        switch loss {
        case .mse: return Float(s)
        case .bce: return s > 0 ? 1 : 0
        case .ce: return Float(Int(rng.nextUnit() * Double(classes)))
        }
    }
    return try Dataset(features: x, targets: y, rows: rows, columns: columns)
}

/// One case of a scikit-learn fixture (`Fixtures/sklearn/expected.json`, `Fixtures/realdata/expected.json`).
struct SolverFixtureCase: Decodable {
    let loss: String
    let alpha: Double
    let l1_ratio: Double
    let coef: [Double]
    /// mse and bce.
    let intercept: Double?
    /// ce: one per class, centered.
    let intercepts: [Double]?
    /// Real data: the problem was posed under --standardize.
    let standardize: Bool?
    /// Real data: the data set's folder.
    let data: String?
    /// Real data: the minimized (standardized) objective at the reference solution.
    let objective: Double?
    var allIntercepts: [Double] { intercepts ?? [intercept ?? .nan] }
}
