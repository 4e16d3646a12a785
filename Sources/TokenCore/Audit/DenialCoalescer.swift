import Synchronization

/// Keeps a flood of refusals from filling the audit log (and the disk, or the database).
///
/// The first refusal of a kind (its source and reason) in a time slice is recorded at once;
/// repeats in the same slice are only counted, and one record with `count` stands for them when
/// the slice ends. At most `maximumSources` sources are tracked at a time; past that, further
/// sources share one overflow entry per reason. So however fast refusals come and from however
/// many sources, they cost at most `maximumSources` records per slice plus one summary per
/// entry, and issued-token records are never crowded out.
///
/// Two are used: unauthenticated denials, which anyone with the URL can send, grouped by source
/// address (10 s slices: ~200 records a second at worst); and an authenticated caller's 429s,
/// which a throttled client sends in a loop, grouped by caller (1 s slices).
public final class DenialCoalescer: Sendable {
    /// What makes two refusals "of a kind", beside their reason.
    public enum Grouping: Sendable {
        case sourceAddress
        case caller
    }

    public let sliceSeconds: Int
    public let maximumSources: Int
    public let grouping: Grouping
    private let entries = Mutex<[Key: Entry]>([:])

    public init(sliceSeconds: Int = 10, maximumSources: Int = 1000, groupedBy grouping: Grouping = .sourceAddress) {
        self.sliceSeconds = sliceSeconds
        self.maximumSources = maximumSources
        self.grouping = grouping
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

    /// The records to write for this refusal now: itself when it is the first of its kind in the
    /// slice (preceded by the summary of an earlier slice, if any), else none.
    public func admit(_ record: AuditRecord, now: Int) -> [AuditRecord] {
        let slice = now / sliceSeconds
        return entries.withLock { entries in
            let source = grouping == .caller ? record.refusal?.actor?.caller : record.remote
            var key = Key(source: source ?? "unknown", reason: record.refusal?.reason ?? record.event.name)
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
        return entry.last.counting(entry.suppressed)
    }
}
