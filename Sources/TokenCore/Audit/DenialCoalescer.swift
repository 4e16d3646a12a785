import Synchronization

/// Keeps an unauthenticated flood from filling the disk with denial records.
///
/// The first denial of a kind (source address and reason) in a time slice is recorded at once;
/// repeats in the same slice are only counted, and one record with `count` stands for them when
/// the slice ends. At most `maximumSources` sources are tracked at a time; past that, further
/// sources share one overflow entry per reason. So however fast denials come and from however
/// many addresses, they cost at most `maximumSources` records per slice plus one summary per
/// entry (with the defaults, ~200 records a second at worst), and issued-token records are never
/// crowded out.
public final class DenialCoalescer: Sendable {
    public let sliceSeconds: Int
    public let maximumSources: Int
    private let entries = Mutex<[Key: Entry]>([:])

    public init(sliceSeconds: Int = 10, maximumSources: Int = 1000) {
        self.sliceSeconds = sliceSeconds
        self.maximumSources = maximumSources
    }

    struct Key: Hashable {
        let source: String
        let reason: String
    }

    struct Entry {
        let slice: Int
        var suppressed: Int
        var last: AuditRecord
    }

    /// The records to write for this denial now: itself when it is the first of its kind in the
    /// slice (preceded by the summary of an earlier slice, if any), else none.
    public func admit(_ record: AuditRecord, now: Int) -> [AuditRecord] {
        let slice = now / sliceSeconds
        return entries.withLock { entries in
            var key = Key(source: record.remote ?? "unknown", reason: record.reason ?? record.event.rawValue)
            if entries[key] == nil && entries.count >= maximumSources {
                key = Key(source: "overflow", reason: key.reason)
            }
            if var entry = entries[key] {
                if entry.slice == slice {
                    entry.suppressed += 1
                    entry.last = record
                    entries[key] = entry
                    return []
                }
                entries[key] = Entry(slice: slice, suppressed: 0, last: record)
                return Self.summary(of: entry).map { [$0, record] } ?? [record]
            }
            entries[key] = Entry(slice: slice, suppressed: 0, last: record)
            return [record]
        }
    }

    /// Summaries of slices that have ended; forgets their entries. Called once per slice.
    public func flush(now: Int) -> [AuditRecord] {
        let slice = now / sliceSeconds
        return entries.withLock { entries in
            var summaries: [AuditRecord] = []
            for (key, entry) in entries where entry.slice < slice {
                if let summary = Self.summary(of: entry) { summaries.append(summary) }
                entries[key] = nil
            }
            return summaries
        }
    }

    private static func summary(of entry: Entry) -> AuditRecord? {
        guard entry.suppressed > 0 else { return nil }
        var record = entry.last
        record.count = entry.suppressed
        return record
    }
}
