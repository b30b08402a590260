import Foundation

/// Loads a dataset from files: `.npy` features (with `.npy` targets) or one CSV.
public enum DataLoader {
    public static func load(data: URL, targets: URL?, targetColumn: String?) throws -> Dataset {
        switch data.pathExtension.lowercased() {
        case "csv":
            guard targets == nil else { throw DataError.invalid("--targets applies to .npy data; a CSV holds its target column") }
            return try CSVLoader.load(data, targetColumn: targetColumn)
        case "npy":
            guard let targets else { throw DataError.invalid("\(data.path): .npy features need --targets y.npy") }
            let x = try NPY.read(data)
            let y = try NPY.read(targets)
            guard x.shape.count == 1 || x.shape.count == 2 else {
                throw DataError.malformed(path: data.path, reason: "X must be 2-D [n, p], got shape \(x.shape)")
            }
            guard y.shape.count == 1 || (y.shape.count == 2 && y.shape[1] == 1) else {
                throw DataError.malformed(path: targets.path, reason: "y must be 1-D [n], got shape \(y.shape)")
            }
            let rows = x.shape[0], columns = x.shape.count == 2 ? x.shape[1] : 1
            guard y.shape[0] == rows else {
                throw DataError.invalid("X has \(rows) rows (\(data.lastPathComponent)) but y has \(y.shape[0]) (\(targets.lastPathComponent))")
            }
            guard rows > 0, columns > 0 else { throw DataError.invalid("\(data.path): no rows or no features (shape \(x.shape))") }
            return try Dataset(features: x.values, targets: y.values, rows: rows, columns: columns)
        default:
            throw DataError.invalid("\(data.path): unknown data format '.\(data.pathExtension)' (expected .npy or .csv)")
        }
    }
}
