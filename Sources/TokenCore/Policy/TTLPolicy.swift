/// Token lifetimes: short enough that a leaked token soon dies, long enough that clients are not
/// forever refreshing. A requested TTL is clamped, not refused; the clamp is reported as a
/// warning, as Vault does.
public enum TTLPolicy {
    public static let minimum = 1800
    public static let maximum = 86400
    public static let defaultTTL = 3600

    public struct Decision: Sendable, Equatable {
        public let ttl: Int
        public let warning: String?
    }

    /// Clamps `requested` (nil: the default) into [minimum, min(maximum, callerMaximum)].
    public static func clamp(_ requested: Int?, callerMaximum: Int? = nil) -> Decision {
        let requested = requested ?? defaultTTL
        let ceiling = min(maximum, callerMaximum ?? maximum)
        if requested < minimum {
            return Decision(ttl: minimum, warning: "ttl \(requested) raised to the minimum of \(minimum)")
        }
        if requested > ceiling {
            let whose = ceiling < maximum ? "the caller's maximum" : "the maximum"
            return Decision(ttl: ceiling, warning: "ttl \(requested) lowered to \(whose) of \(ceiling)")
        }
        return Decision(ttl: requested, warning: nil)
    }
}
