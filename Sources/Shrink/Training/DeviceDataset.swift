/// A dataset uploaded to a device: features [rows, columns] and targets [rows].
struct DeviceDataset {
    let features: Buffer
    let targets: Buffer
    let rows: Int
    let columns: Int

    init(_ data: Dataset, on device: any Device) throws {
        features = try device.makeBuffer(data.features)
        targets = try device.makeBuffer(data.targets)
        rows = data.rows
        columns = data.columns
    }
}
