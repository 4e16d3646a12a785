import Foundation
import Testing
import TestSupport
import TokenCore

/// tokend runs as an unprivileged user in every deployment (systemd's `tokend`, the container's
/// UID 10001), while tests and CI run as root — where a socket option only root may set goes
/// unnoticed. So, as root, this drops to `nobody` and serves for real.
struct UnprivilegedUserTests {
    @Test func servesEveryConnectionAsAnUnprivilegedUser() async throws {
        let nobody: UInt32 = 65534
        let directory = try TemporaryDirectory()
        let secretsPath = try directory.write("secrets.toml", SampleSecrets.toml)
        let auditPath = directory.url.appendingPathComponent("audit.jsonl").path
        var launcher: [String] = []
        var binary = Executables.tokend
        if getuid() == 0 {
            // A copy of the binary the user can reach, and files that are its own.
            binary = directory.url.appendingPathComponent("tokend")
            try FileManager.default.copyItem(at: Executables.tokend, to: binary)
            for path in [directory.url.path, secretsPath, binary.path] {
                #expect(chown(path, nobody, nobody) == 0)
            }
            #expect(chmod(directory.url.path, 0o700) == 0)
            launcher = ["/usr/bin/setpriv", "--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups"]
        }
        let server = try await ServerProcess(["--secrets", secretsPath, "--port", "0", "--audit-log", auditPath],
                                             binary: binary, launcher: launcher)
        #expect(try await HTTPTestClient.send("GET", server.baseURL + "/readyz").status == 200)
        let minted = try await HTTPTestClient.mint(server.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#)
        #expect(minted.status == 200)
        await server.stop()
        if getuid() == 0 {
            var info = stat()
            #expect(stat(auditPath, &info) == 0 && info.st_uid == nobody, "the audit log was written by the unprivileged user")
        }
    }
}
