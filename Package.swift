// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Shrink",
    products: [
        .library(name: "Shrink", targets: ["Shrink"]),
        .executable(name: "shrink", targets: ["ShrinkCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SciPy's sparse .npz files are ZIP archives.
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
    ],
    targets: [
        // System libraries: the OpenCL ICD loader and OpenBLAS' CBLAS interface.
        .systemLibrary(
            name: "COpenCL", path: "Sources/COpenCL", pkgConfig: "OpenCL",
            providers: [.apt(["ocl-icd-opencl-dev", "opencl-headers"])]),
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        // The OpenCL C sources, compiled into the binary.
        .target(
            name: "ShrinkKernels", path: "Kernels",
            exclude: ["README.md"],
            resources: [
                .embedInCode("common.cl"),
                .embedInCode("matmul.cl"),
                .embedInCode("norm.cl"),
                .embedInCode("penalty.cl"),
                .embedInCode("elementwise.cl"),
                .embedInCode("loss.cl"),
                .embedInCode("optimizer.cl"),
                .embedInCode("proximal.cl"),
                .embedInCode("sparse.cl"),
            ]),
        // Compute layer: buffers and five op families (linear algebra, reductions, elementwise
        // maps, loss gradients, update rules) on CPUDevice and OpenCLDevice. Its ops are named by
        // their formulas (sgemm, a norm, BCE's gradient, torch's Adam rule, a proximal-gradient
        // step); it knows nothing of models, data sets, epochs, schedules or files.
        .target(name: "ShrinkCompute", dependencies: ["COpenCL", "CBLAS", "ShrinkKernels"]),
        // Training layer: models, losses, penalties, optimizers, data, trainer.
        .target(name: "Shrink", dependencies: ["ShrinkCompute", "CBLAS", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // The command-line tool.
        .executableTarget(
            name: "ShrinkCLI",
            dependencies: ["Shrink", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // What the test targets share (one `assertClose`).
        .target(name: "ShrinkTestSupport", path: "Tests/ShrinkTestSupport"),
        .testTarget(name: "ShrinkComputeTests", dependencies: ["ShrinkCompute", "ShrinkTestSupport"]),
        .testTarget(name: "ShrinkTests", dependencies: ["Shrink", "ShrinkTestSupport", .product(name: "ZIPFoundation", package: "ZIPFoundation")], resources: [.copy("Fixtures")]),
        .testTarget(name: "CLITests", dependencies: ["ShrinkCLI", "Shrink"]),
    ],
    swiftLanguageModes: [.v6]
)
