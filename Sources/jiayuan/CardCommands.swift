import ArgumentParser
import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanPrinting
import JiayuanQR
import JiayuanStore

#if canImport(Glibc)
    import Glibc
#endif

struct CardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "card", abstract: "Issue membership cards and manage card keys.",
        subcommands: [Issue.self, Show.self, Keys.self, Trust.self, Revoke.self])

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a member's next card (revoking earlier ones); prints the card code.")
        @OptionGroup var data: DataOption
        @Argument(help: "Member id, e.g. M000123.") var member: MemberID
        @Option(help: "Also write the card's QR code as a PNG file.") var png: String?
        @Flag(help: "Print the membership card.") var print = false
        @OptionGroup var target: PrinterOption

        func run() throws {
            let kiosk = try data.open()
            let id = member
            let key = try kiosk.data.loadSigningKey()
            let card = try kiosk.database.issueCard(
                member: id, keyID: key.keyID, today: kiosk.today(), validityDays: kiosk.config.cardValidityDays, at: Date(),
                sign: key.sign)
            if let png { try writeQR(card.code, to: png) }
            Swift.print(card.code)
            if print, let m = try kiosk.database.member(id) {
                try printAndReport(
                    PrintService(kiosk: kiosk), [(Documents.memberCard(m, card: card, config: kiosk.config), m.id.description)],
                    printer: target.printer)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a member's current card code (and optionally its QR PNG).")
        @OptionGroup var data: DataOption
        @Argument(help: "Member id, e.g. M000123.") var member: MemberID
        @Option(help: "Also write the card's QR code as a PNG file.") var png: String?

        func run() throws {
            let kiosk = try data.open()
            let id = member
            guard let card = try kiosk.database.cards(of: id).first(where: { !$0.revoked }) else {
                throw KioskError("\(id) has no valid card; issue one with `jiayuan card issue \(id)`")
            }
            if let png { try writeQR(card.code, to: png) }
            print(card.code)
        }
    }

    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the public card keys this kiosk trusts, with fingerprints (--json: for `card trust` elsewhere).")
        @OptionGroup var data: DataOption
        @Flag(
            help: "As {\"keys\":[{\"id\":N,\"public\":\"<base64>\"}],\"revocations\":[...]} for `card trust` on another kiosk.")
        var json = false

        func run() throws {
            let kiosk = try data.open()
            let dir = kiosk.data
            var entries = try dir.trustedKeys()
            if let own = try? dir.loadSigningKey() {
                entries.removeAll { $0.id == own.keyID }
                entries.append(own.publicEntry)
            }
            if json {
                // This desk's revocations travel with its keys, so other desks withdraw the same cards.
                print(CardTrustFile(keys: entries, revocations: try kiosk.database.cardRevocations(local: true)).json, terminator: "")
            } else {
                for e in entries.sorted(by: { $0.id < $1.id }) {
                    print("key \(e.id): \(e.key.rawRepresentation.base64EncodedString())  fingerprint \(e.fingerprint)")
                }
            }
        }
    }

    struct Trust: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import another desk's public keys and revocations (from its `card keys --json`).",
            discussion: """
                Each new key's fingerprint is shown and must be confirmed on the terminal (compare it with \
                `jiayuan card keys` at the other desk); --yes confirms for scripts. Small-order and \
                non-canonical keys are refused. Revocations are imported without asking: they only withdraw cards.
                """)
        @OptionGroup var data: DataOption
        @Argument var file: String
        @Flag(help: "Trust the file's new keys without asking (scripts; compare fingerprints first).") var yes = false

        func run() throws {
            let kiosk = try data.open()
            let dir = kiosk.data
            guard let contents = FileManager.default.contents(atPath: file) else { throw KioskError("cannot read \(file)") }
            let trustFile = try CardTrustFile.parse(contents, source: file)
            let fresh = try dir.newKeys(trustFile.keys)
            if !fresh.isEmpty && !yes {
                guard isatty(0) == 1 else { throw ValidationError(CardTrustError.confirmationNeeded.description) }
                for e in fresh { Swift.print("new key \(e.id): fingerprint \(e.fingerprint)") }
                Swift.print("Trust cards signed by \(fresh.count == 1 ? "this key" : "these keys")? 信任这些密钥吗？ [y/N] ", terminator: "")
                guard let answer = readLine(), ["y", "yes", "是"].contains(answer.trimmingWhitespace().lowercased()) else {
                    throw CardTrustError.notConfirmed
                }
            }
            let added = try dir.trust(trustFile.keys)
            let revoked = try kiosk.database.importRevocations(trustFile.revocations, at: Date())
            for e in fresh where yes { Swift.print("new key \(e.id): fingerprint \(e.fingerprint)") }
            Swift.print(
                "trusted \(added) new key(s), \(revoked) new revocation(s); this kiosk now accepts cards signed by keys \(try dir.loadKeyring().ids.map(String.init).joined(separator: ", "))"
            )
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw a member's cards without issuing a new one (other desks learn it from `card keys --json`).")
        @OptionGroup var data: DataOption
        @Argument(help: "Member id, e.g. M000123.") var member: MemberID

        func run() throws {
            let kiosk = try data.open()
            let id = member
            let key = try kiosk.data.loadSigningKey()
            let serial = try kiosk.database.revokeCards(member: id, keyID: key.keyID, today: kiosk.today(), at: Date())
            print("withdrew \(id)'s cards\(serial.map { " (serial \($0) here)" } ?? ""); give other desks this desk's `card keys --json`")
        }
    }
}

func writeQR(_ text: String, to path: String) throws {
    let matrix = try QRMatrix.encode(text, correction: .medium)
    do {
        try Data(matrix.png(scale: 8, border: 4)).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw KioskError("cannot write \(path): \(error.localizedDescription)")
    }
}
