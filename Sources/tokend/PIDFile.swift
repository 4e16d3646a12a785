import Foundation

/// `serve --pid-file PATH`: this process's id, written at start and removed when it stops, so
/// that a signal (logrotate's SIGHUP, an operator's reload) reaches this instance and
/// no other tokend on the host.
struct PIDFile {
    let path: String

    /// Writes the id (a temporary file renamed into place: a reader never sees half of it).
    func write() throws(CommandFailure) {
        let temporary = path + ".\(getpid()).tmp"
        do {
            try Data("\(getpid())\n".utf8).write(to: URL(fileURLWithPath: temporary))
            _ = chmod(temporary, 0o644)
            guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            unlink(temporary)
            throw .usage("cannot write the PID file \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes the file if it still names this process (a newer instance may have replaced it).
    func remove() {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) == getpid() else { return }
        unlink(path)
    }
}
