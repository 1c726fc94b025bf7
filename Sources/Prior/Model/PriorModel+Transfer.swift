import NN

extension PriorModel {
    /// Copies a trained prior's weights into this one (same shape, grid and K), its actions matched
    /// by name: the tensors with a row per action (`action_embedding.weight` and each block's
    /// `modulation.weight`, [A + 1, ·]) take the trained row of the action of the same name, and
    /// the trained "no action" row for their own; actions the trained prior never saw keep their
    /// fresh rows. Returns the names that were matched.
    /// - Throws: `PriorError` when any other tensor's shape differs, or one is missing.
    @discardableResult
    public func transfer(from trained: PriorModel, actionNames trainedNames: [String], to names: [String]) throws -> [String] {
        let (oldRows, newRows) = (trained.config.actionCount + 1, config.actionCount + 1)
        // New row i takes old row rows[i] (nil: stays fresh); the last row is "no action" in both.
        let rows: [Int?] = (0..<(newRows - 1)).map { i in i < names.count ? trainedNames.firstIndex(of: names[i]) : nil } + [oldRows - 1]
        let trainedTensors = Dictionary(trained.namedParameters, uniquingKeysWith: { a, _ in a })
        try Tensor.noGrad {
            for (name, target) in namedParameters {
                guard let old = trainedTensors[name] else { throw PriorError(.invalidConfig("the trained prior has no tensor \(name)")) }
                let perAction = name == "action_embedding.weight" || name.hasSuffix(".modulation.weight")
                guard perAction ? old.shape.dropFirst() == target.shape.dropFirst() : old.shape == target.shape else {
                    throw PriorError(.invalidConfig("tensor \(name) is \(old.shape) in the trained prior but \(target.shape) here"))
                }
                guard perAction else {
                    try target.copyFrom(old)
                    continue
                }
                let width = old.shape.dropFirst().reduce(1, *)
                let from = try old.floats()
                var to = try target.floats()
                for (row, oldRow) in rows.enumerated() {
                    guard let oldRow else { continue }
                    to.replaceSubrange((row * width)..<((row + 1) * width), with: from[(oldRow * width)..<((oldRow + 1) * width)])
                }
                try target.copyFrom(try Tensor(to, shape: target.shape))
            }
        }
        return names.filter { trainedNames.contains($0) }
    }
}
