#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real-time clock, in the units tokens and audit records use.
public enum WallClock {
    /// Seconds since the epoch: the unit of every JWT time claim.
    public static func now() -> Int {
        nowMilliseconds() / 1000
    }

    public static func nowMilliseconds() -> Int {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return spec.tv_sec * 1000 + spec.tv_nsec / 1_000_000
    }
}
