import ArgumentParser
import Shrink

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices", abstract: "List every OpenCL platform and device, and which one --device gpu picks.")

    func run() throws {
        print("cpu           \(CPUDevice().name)")
        let devices: [OpenCLDeviceInfo]
        do {
            devices = try OpenCL.devices()
        } catch DeviceError.noOpenCLPlatform {
            print("no OpenCL platform found; --device gpu falls back to the CPU")
            return
        } catch {
            print("OpenCL unavailable (\(error)); --device gpu falls back to the CPU")
            return
        }
        var platform = -1
        for d in devices {
            if d.platformIndex != platform {
                platform = d.platformIndex
                print("platform \(platform): \(d.platformName)")
            }
            print("  \(d.selector)  \(d.name)")
            print("      type \(d.type.rawValue), \(d.version), driver \(d.driverVersion)")
            print("      \(d.computeUnits) compute units, \(d.globalMemory >> 20) MiB global memory, " +
                  "max allocation \(d.maxAllocation >> 20) MiB, max work-group \(d.maxWorkGroupSize)")
        }
        if let chosen = DeviceSelection.preferredOpenCLDevice(devices) {
            let why = chosen.type == .gpu ? "the first GPU" : "no GPU; the first OpenCL device"
            print("--device gpu picks \(chosen.selector) (\(chosen.name)): \(why)")
        }
    }
}
