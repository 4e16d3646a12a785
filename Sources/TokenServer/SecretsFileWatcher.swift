import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Reloads the secrets file when it changes (`--watch-secrets`), for where nobody sends SIGHUP:
/// Kubernetes replaces a mounted Secret by swapping a symlink, which `stat` (following links)
/// sees as a new inode. A change that fails to load is reported once and the running
/// configuration stays, exactly as for SIGHUP; the next change is tried again.
struct SecretsFileWatcher: Service {
    let secrets: LiveSecrets
    let logger: Logger
    let path: String
    let interval: Duration

    /// What tells one version of the file from the next (a swapped symlink gives a new inode;
    /// an edit in place, a new size or time).
    struct Stamp: Equatable {
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let modified: [Int]
        let changed: [Int]

        /// Nil while the path cannot be read (mid-swap, say): not a change to act on.
        static func read(_ path: String) -> Stamp? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return Stamp(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                         modified: [info.st_mtim.tv_sec, info.st_mtim.tv_nsec], changed: [info.st_ctim.tv_sec, info.st_ctim.tv_nsec])
        }
    }

    func run() async throws {
        var last = Stamp.read(path)
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
            guard let now = Stamp.read(path), now != last else { continue }
            last = now
            logger.notice("secrets file changed; reloading", metadata: ["path": "\(path)"])
            await secrets.reloadInBackground()
        }
    }
}
