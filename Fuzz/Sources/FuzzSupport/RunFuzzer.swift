/// libFuzzer's driver, entered from the target's own `main` (SwiftPM names every executable's
/// entry point itself, so libFuzzer's `main` cannot be used).
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

nonisolated(unsafe) private var target: (([UInt8]) -> Void)?

/// Runs libFuzzer with the process's arguments (`-runs=`, `-max_total_time=`, a corpus
/// directory…), calling `body` with each input; a property that does not hold is a `fatalError`,
/// which libFuzzer records as a crash with the input that caused it.
public func runFuzzer(_ body: @escaping ([UInt8]) -> Void) -> Never {
    target = body
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv) { data, count in
        target?(data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
        return 0
    }
    exit(status)
}

@_silgen_name("exit")
private func exit(_ status: CInt) -> Never
