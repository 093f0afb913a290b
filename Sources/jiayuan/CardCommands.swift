import ArgumentParser
import Foundation
import JiayuanDomain
import JiayuanKit
import JiayuanQR
import JiayuanStore

struct CardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "card", abstract: "Issue membership cards and manage card keys.",
        subcommands: [Issue.self, Show.self, Keys.self, Trust.self])

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a member's next card (revoking earlier ones); prints the card code.")
        @OptionGroup var data: DataOption
        @Argument var member: String
        @Option(help: "Also write the card's QR code as a PNG file.") var png: String?
        @Flag(help: "Print the membership card.") var print = false
        @OptionGroup var target: PrinterOption

        func run() throws {
            let kiosk = try data.open()
            guard let id = MemberID(member) else { throw KioskError("\"\(member)\" is not a member id like M000123") }
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
        @Argument var member: String
        @Option(help: "Also write the card's QR code as a PNG file.") var png: String?

        func run() throws {
            let kiosk = try data.open()
            guard let id = MemberID(member) else { throw KioskError("\"\(member)\" is not a member id like M000123") }
            guard let card = try kiosk.database.cards(of: id).first(where: { !$0.revoked }) else {
                throw KioskError("\(id) has no valid card; issue one with `jiayuan card issue \(id)`")
            }
            if let png { try writeQR(card.code, to: png) }
            print(card.code)
        }
    }

    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the public card keys this kiosk trusts.")
        @OptionGroup var data: DataOption
        @Flag(help: "As {\"keys\":[{\"id\":N,\"public\":\"<base64>\"}]} for `card trust` on another kiosk.") var json = false

        func run() throws {
            let dir = try data.open().data
            var entries = try dir.trustedKeys()
            if let own = try? dir.loadSigningKey() {
                entries.removeAll { $0.id == own.keyID }
                entries.append(own.publicEntry)
            }
            if json {
                print(PublicKeyEntry.listJSON(entries), terminator: "")
            } else {
                for e in entries.sorted(by: { $0.id < $1.id }) {
                    print("key \(e.id): \(e.key.rawRepresentation.base64EncodedString())")
                }
            }
        }
    }

    struct Trust: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import another desk's public keys (from its `card keys --json`).")
        @OptionGroup var data: DataOption
        @Argument var file: String

        func run() throws {
            let dir = try data.open().data
            guard let contents = FileManager.default.contents(atPath: file) else { throw KioskError("cannot read \(file)") }
            let added = try dir.trust(PublicKeyEntry.parseList(contents, source: file))
            print("trusted \(added) new key(s); this kiosk now accepts cards signed by keys \(try dir.loadKeyring().ids.map(String.init).joined(separator: ", "))")
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
