import Prior
import VQVAE

/// The shipped recipe: every default of framecast's training and sampling, in one place. The
/// library, the command line (`framecast help train prior` shows these values) and
/// `Tools/train-default` all read it, so the model a default run trains is the one that was
/// measured (Models/default/README.md; the experiments behind each value: docs/experiments.md).
public enum Recipe {
    /// The tokenizer's shape: 64×64 frames → 8×8 codes, K = 512 codes of D = 16, a light encoder
    /// (one residual block, at the grid level) and a decoder with one block per level; videos of
    /// another aspect ratio are stretched to the frame, so nothing at their edges is lost.
    public static var tokenizer: VQVAEConfig {
        var c = VQVAEConfig()
        (c.frameWidth, c.frameHeight) = (64, 64)
        (c.gridWidth, c.gridHeight) = (8, 8)
        (c.codebookSize, c.codeDim) = (512, 16)
        (c.baseChannels, c.maxChannels) = (64, 128)
        c.blocksPerLevel = 1
        c.encoderBlocksPerLevel = 0
        c.emaDecay = 0.99
        c.fit = "stretch"
        return c
    }

    /// The tokenizer's training: batch 32, AdamW at 1e-3 with 100 warm-up steps and cosine decay,
    /// the edge (image-gradient L1) loss at weight 0.5; bfloat16 convolutions are chosen per CPU
    /// (`TokenizerTraining.Settings.bfloat16`).
    public static var tokenizerTraining: TokenizerTrainingOptions {
        var o = TokenizerTrainingOptions()
        o.steps = 5388
        o.batch = 32
        o.learningRate = 1e-3
        o.warmup = 100
        o.edgeWeight = 0.5
        o.gradientClip = 1.0
        o.seed = 0
        return o
    }

    /// The prior's shape (the grid, K and the actions come from the code files): 4 layers, width
    /// 192, 4 heads, 8 frames of context with rotary frame positions, trained on windows of 16
    /// frames, no dropout, action-modulated LayerNorms.
    public static var prior: PriorConfig {
        var c = PriorConfig()
        c.layers = 4
        c.width = 192
        c.heads = 4
        c.contextFrames = 8
        c.trainingFrames = 16
        c.dropout = 0
        c.actionIntoFrame = true
        c.actionModulation = true
        return c
    }

    /// The prior's training: 8 windows of 16 frames a step, AdamW at 8e-4 with 100 warm-up steps
    /// and cosine decay, 10% action dropout, 10% context noise.
    public static var priorTraining: PriorTrainingOptions {
        var o = PriorTrainingOptions()
        o.steps = 3400
        o.batch = 8
        o.learningRate = 8e-4
        o.warmup = 100
        o.weightDecay = 0.1
        o.gradientClip = 1.0
        o.actionDropout = 0.1
        o.contextNoise = 0.1
        o.seed = 0
        return o
    }

    /// Sampling for predict, demo, eval prior, report and `Predictor`: T = 1, no top-k/top-p,
    /// classifier-free action guidance w = 2 against the previous action.
    public static var sampling: SamplingOptions {
        SamplingOptions(temperature: 1, topK: 0, topP: 1, seed: 0, actionGuidance: 2)
    }

    /// Training-run cadence: validate every 500 steps, checkpoint every 250, log every 25.
    public static let evalEvery = 500, checkpointEvery = 250, logEvery = 25
    /// Validation frames per tokenizer evaluation, and windows per prior evaluation.
    public static let tokenizerEvalFrames = 512, priorEvalWindows = 256
}
