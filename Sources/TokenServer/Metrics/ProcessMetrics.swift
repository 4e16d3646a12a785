import Glibc
import Prometheus
import Synchronization

/// The `process_*` families Prometheus' own clients expose on Linux, read from `/proc/self` when
/// `/metrics` is scraped: CPU time, resident and virtual memory, open and allowed descriptors,
/// start time. Written by the registry like every other family.
final class ProcessMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let cpuSeconds: Counter
    /// The CPU time the counter has been raised to: a counter only goes up, by the difference.
    private let countedCPU = Mutex(0.0)

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        cpuSeconds = registry.makeCounter(descriptor: Self.family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds."))
    }

    /// Reads `/proc/self` into the families, before the registry is written out.
    func update() {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let stat = Self.read("/proc/self/stat"), let close = stat.lastIndex(of: ")") {
            // Fields after the command (which may hold spaces), numbered from 3 in proc(5).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            func field(_ number: Int) -> Double? { fields.count > number - 3 ? Double(fields[number - 3]) : nil }
            if let user = field(14), let system = field(15) {
                let total = (user + system) / ticks
                let added = countedCPU.withLock { counted -> Double in
                    defer { counted = max(counted, total) }
                    return max(0, total - counted)
                }
                if added > 0 { cpuSeconds.increment(by: added) }
            }
            if let virtual = field(23) { gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", virtual) }
            if let pages = field(24) { gauge("process_resident_memory_bytes", "Resident memory size in bytes.", pages * Double(sysconf(Int32(_SC_PAGESIZE)))) }
            if let started = field(22), let boot = Self.bootTime() {
                gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", boot + started / ticks)
            }
        }
        if let directory = opendir("/proc/self/fd") {
            var count = -3  // ".", ".." and the descriptor reading the directory
            while readdir(directory) != nil { count += 1 }
            closedir(directory)
            gauge("process_open_fds", "Number of open file descriptors.", Double(max(0, count)))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            gauge("process_max_fds", "Maximum number of open file descriptors.", Double(limit.rlim_cur))
        }
    }

    private func gauge(_ name: String, _ help: String, _ value: Double) {
        registry.makeGauge(descriptor: Self.family(name, help)).set(value)
    }

    private static func family(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The system's boot time (`btime` in /proc/stat), for the process's start.
    private static func bootTime() -> Double? {
        read("/proc/stat")?.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) }
    }

    private static func read(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
