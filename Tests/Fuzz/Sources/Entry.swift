// The two ways in: libFuzzer's callbacks when built by kiosk/fuzz.sh (-DJIAYUAN_FUZZ), else a small tool that
// replays saved inputs through a target (how a crash found by the fuzzer is reproduced in a debug build).

#if JIAYUAN_FUZZ
    #if canImport(Glibc)
        import Glibc
    #endif

    /// The target this process fuzzes, chosen by `JIAYUAN_FUZZ_TARGET`.
    nonisolated(unsafe) private var selected: FuzzTarget?

    /// libFuzzer's driver (in the runtime linked by -sanitize=fuzzer). SwiftPM makes the executable's `main` the
    /// module's `@main`, so libFuzzer's own `main` is not used: this one calls the driver.
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    @main
    struct FuzzMain {
        static func main() {
            guard let name = getenv("JIAYUAN_FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget.named(name) else {
                let message = "jiayuan-fuzz: set JIAYUAN_FUZZ_TARGET to one of: \(FuzzTarget.all.map(\.name).joined(separator: " "))\n"
                _ = message.withCString { write(2, $0, strlen($0)) }
                exit(2)
            }
            selected = target
            var argc = CommandLine.argc
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = CommandLine.unsafeArgv
            exit(
                runFuzzerDriver(&argc, &argv) { data, size in
                    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
                    selected!.run(bytes)
                    return 0
                })
        }
    }

#else
    import Foundation

    /// `jiayuan-fuzz TARGET FILE|DIR...`: runs each file (or every file of each folder) through the target once.
    @main
    struct FuzzReplay {
        static func main() {
            let args = Array(CommandLine.arguments.dropFirst())
            guard let name = args.first, let target = FuzzTarget.named(name), args.count > 1 else {
                FileHandle.standardError.write(
                    Data("usage: jiayuan-fuzz TARGET FILE|DIR... (targets: \(FuzzTarget.all.map(\.name).joined(separator: " ")))\n".utf8))
                exit(2)
            }
            var count = 0
            for path in args.dropFirst() {
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                    FileHandle.standardError.write(Data("jiayuan-fuzz: no such file: \(path)\n".utf8))
                    exit(2)
                }
                let files =
                    isDir.boolValue
                    ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
                for file in files {
                    guard let data = FileManager.default.contents(atPath: file) else { continue }
                    target.run(Array(data))
                    count += 1
                }
            }
            print("jiayuan-fuzz: \(target.name): \(count) inputs replayed, all invariants held")
        }
    }
#endif
