import Synchronization

/// A Prometheus histogram recorded with atomic adds only: a bucket's count, the count of all and
/// the sum (in nanoseconds). No lock and no allocation per observation, so the request path can
/// afford one. Buckets are stored uncumulated and summed when rendered.
final class AtomicHistogram: Sendable {
    /// Upper bounds in nanoseconds, ascending; observations above the last go to `+Inf`.
    let bounds: [Int]
    private let buckets: [AtomicCell]
    private let sum = Atomic<Int>(0)

    init(boundsInSeconds: [Double]) {
        bounds = boundsInSeconds.map { Int($0 * 1e9) }
        buckets = (0...boundsInSeconds.count).map { _ in AtomicCell() }
    }

    func observe(nanoseconds: Int) {
        var index = 0
        while index < bounds.count, nanoseconds > bounds[index] { index += 1 }
        buckets[index].add(1)
        sum.add(max(0, nanoseconds), ordering: .relaxed)
    }

    /// Cumulative counts per bound (the last is `+Inf`, the total) and the sum in seconds.
    func snapshot() -> (cumulative: [Int], sumSeconds: Double) {
        var running = 0
        let cumulative = buckets.map { cell in
            running += cell.value
            return running
        }
        return (cumulative, Double(sum.load(ordering: .relaxed)) / 1e9)
    }
}

/// One atomic counter, as a class so that an array can hold many (`Atomic` cannot be copied).
final class AtomicCell: Sendable {
    private let storage = Atomic<Int>(0)

    func add(_ amount: Int) {
        storage.add(amount, ordering: .relaxed)
    }

    var value: Int { storage.load(ordering: .relaxed) }
}
