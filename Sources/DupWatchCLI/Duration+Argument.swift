public import ArgumentParser
import DupWatchCore

/// `--cart-gap 4h`: durations are typed options, rejected while parsing when malformed.
extension Duration: @retroactive ExpressibleByArgument {
    public init?(argument: String) {
        self.init(text: argument)
    }

    public var defaultValueDescription: String { text }
}
