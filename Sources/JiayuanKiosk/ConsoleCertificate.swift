import Crypto
import Foundation
import JiayuanDomain
import SwiftASN1
import X509

#if canImport(Glibc)
    import Glibc
#endif

/// The staff console's TLS certificate: the one named by `[console] tls_cert`/`tls_key`, or a self-signed
/// one (ECDSA P-256) that `jiayuan init` makes in `keys/` and `jiayuan console cert --renew` replaces.
/// Staff compare its SHA-256 fingerprint with the one their browser shows the first time.
public struct ConsoleCertificate: Sendable, Equatable {
    /// The PEM certificate chain file.
    public var certificatePath: String
    /// The PEM private key file (mode 0600).
    public var keyPath: String

    /// The files the kiosk serves the console with: the configured ones, else keys/console-*.pem.
    public init(data: DataDirectory, config: ConsoleConfig) {
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : data.path + "/" + p }
        certificatePath = config.tlsCert.map(resolve) ?? data.keysPath + "/console-cert.pem"
        keyPath = config.tlsKey.map(resolve) ?? data.keysPath + "/console-key.pem"
    }

    /// Whether the certificate and key files are there.
    public var exists: Bool {
        FileManager.default.fileExists(atPath: certificatePath) && FileManager.default.fileExists(atPath: keyPath)
    }

    /// What can go wrong with the certificate, as cases a caller can switch on.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        /// A file is missing or unreadable.
        case unreadable(String)
        /// The file holds no PEM certificate this kiosk can read.
        case notACertificate(String)
        /// The certificate could not be written.
        case cannotWrite(String)

        public var description: String {
            switch self {
            case .unreadable(let p): "cannot read the console certificate \(p): check that it exists and its permissions"
            case .notACertificate(let p): "\(p) holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            case .cannotWrite(let p): "cannot write the console certificate in \(p)"
            }
        }
    }

    /// The SHA-256 fingerprint of the (first) certificate, as browsers show it: `AB:CD:…` (32 pairs).
    public func fingerprint() throws -> String {
        guard let data = FileManager.default.contents(atPath: certificatePath), let text = String(data: data, encoding: .utf8) else {
            throw Problem.unreadable(certificatePath)
        }
        return try Self.fingerprint(pem: text, path: certificatePath)
    }

    /// The fingerprint of the first certificate in PEM text.
    public static func fingerprint(pem text: String, path: String = "certificate") throws -> String {
        guard let begin = text.range(of: "-----BEGIN CERTIFICATE-----"),
            let end = text.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<text.endIndex),
            let document = try? PEMDocument(pemString: String(text[begin.lowerBound..<end.upperBound]))
        else { throw Problem.notACertificate(path) }
        return fingerprint(der: document.derBytes)
    }

    /// `AB:CD:…` of SHA-256 over DER bytes.
    public static func fingerprint(der: [UInt8]) -> String {
        SHA256.hash(data: der).map { String(format: "%02X", $0) }.joined(separator: ":")
    }

    /// Makes a new self-signed certificate and key (replacing any there), valid for 825 days from `now`,
    /// naming `hostNames` and `addresses` as subject alternative names. Returns its fingerprint.
    @discardableResult
    public func create(hostNames: [String], addresses: [String], now: Date = Date()) throws -> String {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CommonName(hostNames.first ?? "jiayuan")
            OrganizationName("Jiayuan kiosk staff console")
        }
        var names: [GeneralName] = []
        for host in Self.unique(hostNames) { names.append(.dnsName(host)) }
        for address in Self.unique(addresses) {
            if let bytes = Self.addressBytes(address) { names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes)))) }
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(names)
        }
        var serial = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in serial.indices { serial[i] = UInt8.random(in: 0...255, using: &rng) }
        serial[0] &= 0x7F
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(bytes: ArraySlice(serial)), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(825 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: .init(key))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let der = serializer.serializedBytes
        let certificatePEM = PEMDocument(type: "CERTIFICATE", derBytes: der).pemString + "\n"
        let directory = (certificatePath as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try Self.writePrivate(key.pemRepresentation + "\n", to: keyPath)
            try Data(certificatePEM.utf8).write(to: URL(fileURLWithPath: certificatePath), options: .atomic)
            // Made by root (`console cert --renew` on an appliance)? Give the files to whoever owns keys/,
            // the kiosk's own user, or the kiosk could not read its key.
            var owner = stat()
            if geteuid() == 0, stat(directory, &owner) == 0, owner.st_uid != 0 {
                _ = chown(keyPath, owner.st_uid, owner.st_gid)
                _ = chown(certificatePath, owner.st_uid, owner.st_gid)
            }
        } catch {
            throw Problem.cannotWrite(directory)
        }
        return Self.fingerprint(der: der)
    }

    /// Writes `text` readable by its owner only (created 0600, renamed into place).
    static func writePrivate(_ text: String, to path: String) throws {
        let temporary = path + ".new"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Problem.cannotWrite(path) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw Problem.cannotWrite(path)
        }
    }

    static func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { !$0.isEmpty && seen.insert($0.lowercased()).inserted }
    }

    /// The 4 or 16 bytes of an IPv4 or IPv6 address; nil for anything else (and for the wildcards).
    static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            guard v4.s_addr != 0 else { return nil }
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        let bare = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        if inet_pton(AF_INET6, bare, &v6) == 1 {
            let bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return bytes.allSatisfy { $0 == 0 } ? nil : bytes
        }
        return nil
    }

    /// The names a desk PC may use for this machine: its host name, `localhost`, and the console's
    /// configured host when it is a name.
    public static func hostNames(console: ConsoleConfig) -> [String] {
        var names: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        if gethostname(&buffer, buffer.count) == 0 {
            let host = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !host.isEmpty { names.append(host) }
        }
        if addressBytes(console.host) == nil, !["0.0.0.0", "::", "[::]"].contains(console.host) { names.append(console.host) }
        names.append("localhost")
        return unique(names)
    }

    /// The addresses a desk PC may use: the configured one (unless a wildcard), every address of this
    /// machine's interfaces, and loopback.
    public static func addresses(console: ConsoleConfig) -> [String] {
        var out: [String] = []
        if addressBytes(console.host) != nil { out.append(console.host) }
        var list: UnsafeMutablePointer<ifaddrs>?
        if getifaddrs(&list) == 0 {
            var cursor = list
            while let entry = cursor {
                defer { cursor = entry.pointee.ifa_next }
                guard let address = entry.pointee.ifa_addr else { continue }
                var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                let family = Int32(address.pointee.sa_family)
                guard family == AF_INET || family == AF_INET6 else { continue }
                let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
                if getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 {
                    let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    // Link-local IPv6 addresses carry a zone (%eth0) that certificates cannot name.
                    if !text.contains("%") { out.append(text) }
                }
            }
            freeifaddrs(list)
        }
        out += ["127.0.0.1", "::1"]
        return unique(out)
    }
}
