/// Names and constants of the code-file format (`NAME.codes.safetensors`).
public enum CodeFileFormat {
    /// The file-name suffix of code files.
    public static let fileExtension = "codes.safetensors"
    /// The `format` metadata value that marks a code file.
    public static let formatTag = "framecast-codes"
    /// The format version this build writes and reads.
    public static let version = "1"
    /// The largest codebook a `U16` code tensor can index.
    public static let maxCodebookSize = Int(UInt16.max) + 1

    /// Tensor names.
    enum Tensor {
        static let codes = "codes"
        static let actions = "actions"
        static let episodeStart = "episode_start"
    }

    /// Metadata keys.
    enum Key {
        static let format = "format"
        static let version = "version"
        static let fps = "fps"
        static let source = "source"
        static let sourceBytes = "source_bytes"
        static let sourceSHA256 = "source_sha256"
        static let contextFrames = "context_frames"
        static let sourceStart = "source_start"
        static let frameWidth = "frame_width"
        static let frameHeight = "frame_height"
        static let grid = "grid"
        static let codebookSize = "codebook_size"
        static let tokenizerSHA256 = "tokenizer_sha256"
        static let actionNames = "action_names"
    }
}
