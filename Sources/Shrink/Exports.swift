// The training layer re-exports the compute layer: `import Shrink` is all a user needs.
@_exported import ShrinkCompute
