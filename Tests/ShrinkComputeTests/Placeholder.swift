import XCTest
@testable import ShrinkCompute

final class SmokeTests: XCTestCase {
    func testSmoke() throws {
        let infos = try OpenCL.devices()
        print(infos)
        let cl = try OpenCLDevice.shared(infos[0])
        let cpu = CPUDevice()
        for dev in [cpu, cl] as [any Device] {
            let a = try dev.makeBuffer((0..<6).map { Float($0) })
            let b = try dev.makeBuffer((0..<6).map { Float($0) + 1 })
            let c = try dev.makeBuffer(count: 4)
            try dev.matmul(MatmulShape(m: 2, n: 2, k: 3, transposeB: true), a: a, b: b, c: c)
            print(dev.name, try dev.read(c))
            print(try dev.norm(.l2, of: a), try dev.norm(.maxAbs, of: b), try dev.norm(.countZero, of: a))
        }
    }
}
