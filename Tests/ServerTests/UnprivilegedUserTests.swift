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

    /// The container's user (UID/GID 10001) reading a Secret the way the kubelet mounts it:
    /// `secrets.toml -> ..data/secrets.toml`, `..data -> ..<timestamp>`, the file root:fsGroup
    /// 0440. An update swaps `..data`; --watch-secrets picks it up without a signal.
    @Test(.enabled(if: getuid() == 0, "needs root to lay out files as the kubelet does and to drop to UID 10001"))
    func readsAndFollowsAKubernetesMountedSecret() async throws {
        let user: UInt32 = 10001
        let directory = try TemporaryDirectory()
        let fileManager = FileManager.default
        #expect(chmod(directory.url.path, 0o755) == 0)
        let mount = directory.url.appendingPathComponent("etc-tokend")
        let state = directory.url.appendingPathComponent("state")
        for (path, owner, mode) in [(mount, 0 as UInt32, 0o2750 as mode_t), (state, user, 0o700 as mode_t)] {
            try fileManager.createDirectory(at: path, withIntermediateDirectories: false)
            #expect(chown(path.path, owner, user) == 0 && chmod(path.path, mode) == 0)
        }
        func publish(_ text: String, version: String) throws {
            let versionDirectory = mount.appendingPathComponent("..\(version)")
            try fileManager.createDirectory(at: versionDirectory, withIntermediateDirectories: false)
            #expect(chown(versionDirectory.path, 0, user) == 0 && chmod(versionDirectory.path, 0o2750) == 0)
            let file = versionDirectory.appendingPathComponent("secrets.toml").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            #expect(chown(file, 0, user) == 0 && chmod(file, 0o440) == 0)
            // The kubelet's AtomicWriter: a new ..data link renamed over the old one.
            let staging = mount.appendingPathComponent("..data_tmp").path
            try fileManager.createSymbolicLink(atPath: staging, withDestinationPath: "..\(version)")
            #expect(rename(staging, mount.appendingPathComponent("..data").path) == 0)
        }
        try publish(SampleSecrets.toml, version: "2026_11_30_08_00_00.000000001")
        let secretsPath = mount.appendingPathComponent("secrets.toml").path
        try fileManager.createSymbolicLink(atPath: secretsPath, withDestinationPath: "..data/secrets.toml")

        let binary = state.appendingPathComponent("tokend")
        try fileManager.copyItem(at: Executables.tokend, to: binary)
        #expect(chown(binary.path, user, user) == 0)
        let server = try await ServerProcess(
            ["--secrets", secretsPath, "--port", "0", "--audit-log", state.appendingPathComponent("audit.jsonl").path, "--watch-secrets", "0.2"],
            binary: binary, launcher: ["/usr/bin/setpriv", "--reuid=\(user)", "--regid=\(user)", "--clear-groups"])
        #expect(try await HTTPTestClient.mint(server.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#).status == 200)

        let newKey = "tkd_a-key-from-the-updated-kubernetes-secret"
        try publish(SampleSecrets.toml + """
            [[callers]]
            id = "mobile"
            api_key_sha256 = "\(KeyMaterial.apiKeySHA256Hex(newKey))"

            """, version: "2026_11_30_08_05_00.000000002")
        #expect(await server.waitForOutput("secrets reloaded"), "\(server.stderr)")
        #expect(try await HTTPTestClient.mint(server.baseURL, apiKey: newKey, body: #"{"identity":"bob"}"#).status == 200)
        await server.stop()
    }
}
