import ArgumentParser
import Foundation
import Shrink

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List every OpenCL platform and device, which one --device gpu picks, and whether MPI is available.")

    func run() throws {
        let world = try Communicator.world()
        if world.usesMPI {
            // Under mpirun: each rank says who it is and what its node's rank picks.
            print("rank \(world.rank) of \(world.size) (local rank \(world.localRank)), \(ProcessInfo.processInfo.hostName)")
            try world.barrier()
            guard world.isRoot else { return }
        }
        print("mpi           " + (Communicator.availableLibrary().map { "\($0): run several processes with mpirun -np N shrink …" }
                                  ?? "not available (install openmpi-bin libopenmpi-dev to run under mpirun)"))
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
