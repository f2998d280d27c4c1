import DupWatchCore

/// Why an import stopped; each says what to do.
public enum ImportError: Error, CustomStringConvertible {
    /// A worker (or another import) holds the lease of the partition.
    case leaseHeld(key: String, holder: String)
    /// The lease was lost during the import (it lapsed, or was taken): nothing more was written.
    case leaseLost(key: String)
    case commitFailed(String)

    public var description: String {
        switch self {
        case .leaseHeld(let key, let holder):
            "\(Quoted.string(holder)) holds the lease \(key): a worker (or another import) is running on this group. Stop it first, or pass --wait to wait for it to stop (a killed holder's lease lapses after its TTL)"
        case .leaseLost(let key):
            "lost the lease \(key) during the import (it lapsed or another process took it); the orders committed so far are stored, run the import again to finish"
        case .commitFailed(let message):
            "a commit failed: \(message); the batches committed before it are stored, run the import again once this is fixed (it skips what is stored)"
        }
    }
}
