import NN

/// Nearest-codebook-vector quantization (L2) with a straight-through gradient.
///
/// The codebook is trained either by exponential moving averages of the encodings assigned to
/// each code (`emaDecay > 0`, the paper's appendix variant) or by the codebook loss term
/// ‖sg[z_e] − e‖². Codes unused for a while are restarted at random encodings of the batch, so
/// the codebook does not collapse; the first training step initialises every code that way.
final class VectorQuantizer {
    let codebookSize: Int
    let codeDim: Int
    let emaDecay: Double
    /// [K, D]; a trainable parameter only without EMA.
    let codebook: Tensor
    /// EMA of how many encodings each code received per step: [K].
    let emaCount: Tensor
    /// EMA of the sum of encodings assigned to each code: [K, D].
    let emaSum: Tensor

    init(codebookSize: Int, codeDim: Int, emaDecay: Double) throws {
        self.codebookSize = codebookSize
        self.codeDim = codeDim
        self.emaDecay = emaDecay
        let bound = 1 / Double(codebookSize)
        let initial = Init.uniform([codebookSize, codeDim], bound: bound)
        codebook = emaDecay > 0 ? try initial.detach() : initial
        emaCount = try Tensor.zeros([codebookSize])
        emaSum = try Tensor.zeros([codebookSize, codeDim])
    }

    /// Trainable tensors (the codebook only when it is trained by its loss term).
    var namedParameters: [(String, Tensor)] { emaDecay > 0 ? [] : [("codebook", codebook)] }

    /// Everything saved in a checkpoint.
    var namedState: [(String, Tensor)] { [("codebook", codebook), ("ema_count", emaCount), ("ema_sum", emaSum)] }

    struct Output {
        let quantized: Tensor      // [B, D, h, w], straight-through: forward = e, backward = identity to z_e
        let indices: Tensor        // [B, h, w] int64
        let commitment: Tensor     // ‖z_e − sg[e]‖² (mean)
        let codebookLoss: Tensor   // ‖sg[z_e] − e‖² (mean)
    }

    /// Index of the nearest code for each row of `z`: [N, D] → [N].
    func nearest(_ z: Tensor) throws -> Tensor {
        try Tensor.noGrad {
            let e = try codebook.detach()
            // ‖z − e‖² = ‖z‖² − 2 z·e + ‖e‖²; ‖z‖² is the same for every code, so it is dropped.
            let scores = try e.square().sum(dim: 1).unsqueeze(0) - 2 * z.matmul(e.transpose(0, 1))  // [N, K]
            return try scores.argmin(dim: 1)
        }
    }

    /// z_e: [B, D, h, w] → quantized latents, code indices and the two loss terms.
    func callAsFunction(_ ze: Tensor) throws -> Output {
        let (b, d, h, w) = (ze.size(0), ze.size(1), ze.size(2), ze.size(3))
        let z = try ze.permute([0, 2, 3, 1]).reshape([b * h * w, d])       // [N, D]
        let indices = try nearest(z.detach())                                // [N]
        let e = try F.embedding(codebook, indices)                           // [N, D]
        let commitment = try F.mseLoss(z, e.detach())
        let codebookLoss = try F.mseLoss(z.detach(), e)
        let straight = try z + (e - z).detach()                              // value e, gradient to z
        let quantized = try straight.reshape([b, h, w, d]).permute([0, 3, 1, 2]).contiguous()  // [B, D, h, w]
        return Output(quantized: quantized, indices: try indices.reshape([b, h, w]),
                      commitment: commitment, codebookLoss: codebookLoss)
    }

    /// Codebook vectors for indices: [B, h, w] int64 → [B, D, h, w].
    func lookup(_ indices: Tensor) throws -> Tensor {
        try F.embedding(codebook, indices).permute([0, 3, 1, 2]).contiguous()
    }

    /// One EMA step from a batch's encodings `z` [N, D] and their codes [N], then restarts of
    /// dead codes (EMA count of assignments per step below `deadThreshold`) at random rows of `z`.
    /// Returns how many codes were restarted.
    @discardableResult
    func update(_ z: Tensor, _ indices: Tensor, deadThreshold: Double) throws -> Int {
        try Tensor.noGrad {
            let z = try z.detach()
            if emaDecay > 0 {
                let onehot = try indices.oneHot(codebookSize).to(.float32)              // [N, K]
                try emaCount.mulInPlace(emaDecay)
                try emaCount.addInPlace(onehot.sum(dim: 0), alpha: 1 - emaDecay)
                try emaSum.mulInPlace(emaDecay)
                try emaSum.addInPlace(onehot.transpose(0, 1).matmul(z), alpha: 1 - emaDecay)
                // Laplace-smoothed counts keep rarely used codes from dividing by ~0.
                let total = try emaCount.sum()
                let smoothed = try (emaCount + 1e-5) / (total + 1e-5 * Double(codebookSize)) * total
                try codebook.copyFrom(emaSum / smoothed.unsqueeze(1))
            } else {
                try emaCount.mulInPlace(0.99)
                try emaCount.addInPlace(indices.oneHot(codebookSize).to(.float32).sum(dim: 0), alpha: 0.01)
            }
            let dead = try emaCount.lt(deadThreshold)                                    // [K] bool
            let deadCount = Int(try dead.to(.float32).sum().item())
            guard deadCount > 0 else { return 0 }
            // A restarted code starts at the threshold: unless data comes to it, it decays below and
            // is restarted again next step, until it lands somewhere the encoder actually goes.
            let picks = try Tensor.randint(0, z.size(0), [codebookSize])
            let candidates = try z.indexSelect(dim: 0, index: picks)                     // [K, D]
            let mask = try dead.unsqueeze(1)                                             // [K, 1]
            try codebook.copyFrom(Tensor.where(mask, candidates, codebook))
            try emaSum.copyFrom(Tensor.where(mask, candidates * deadThreshold, emaSum))
            try emaCount.copyFrom(Tensor.where(dead, Tensor.full([codebookSize], deadThreshold), emaCount))
            return deadCount
        }
    }
}
