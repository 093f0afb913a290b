import Crypto
import Foundation
import JiayuanDomain
import JiayuanProcess

/// Spoken prompts: each distinct sentence is synthesised once with espeak-ng (Mandarin, slow) and kept
/// as a WAV file in the data directory's `voice/` folder.
public final class VoiceCache: @unchecked Sendable {
    let directory: String
    let espeak: String
    private let lock = NSLock()
    private var sentences: [String: String] = [:]

    /// A cache in `directory`, using the espeak-ng at `espeak`.
    public init(directory: String, espeak: String = "/usr/bin/espeak-ng") {
        self.directory = directory
        self.espeak = espeak
    }

    /// The URL of the prompt for `text` (synthesised on first request).
    public func url(for text: String) -> String {
        let key = Array(SHA256.hash(data: Array(text.utf8)).prefix(12)).hexString
        lock.lock()
        sentences[key] = text
        lock.unlock()
        return "/api/voice/\(key).wav"
    }

    /// The WAV for a key handed out by `url(for:)`, synthesising it if needed; nil for an unknown key.
    public func wav(key: String) throws -> Data? {
        guard key.count == 24, key.allSatisfy(\.isHexDigit) else { return nil }
        let path = directory + "/\(key).wav"
        if let data = FileManager.default.contents(atPath: path) { return data }
        lock.lock()
        let text = sentences[key]
        lock.unlock()
        guard let text else { return nil }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temp = path + ".\(UUID().uuidString).tmp"
        // posix_spawn, not Foundation's Process: see `Spawn` (a kiosk has many descriptors open).
        guard try Spawn.run(espeak, ["-v", "cmn", "-s", "120", "-w", temp, "--", text]) == 0 else {
            throw KioskVoiceError.synthesisFailed
        }
        _ = rename(temp, path)
        return FileManager.default.contents(atPath: path)
    }
}

/// Why a prompt could not be made.
enum KioskVoiceError: Error { case synthesisFailed }
