import ArgumentParser
import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore

extension MemberGroup: ExpressibleByArgument {}
extension MemberFlag: ExpressibleByArgument {}

/// A member id argument (`M000123`): a malformed one is a usage mistake (exit 64) before anything opens.
extension MemberID: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

struct MemberCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member", abstract: "Register and look up members.",
        subcommands: [Add.self, List.self, Show.self, Visits.self, Deactivate.self, Reactivate.self, Import.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a member; prints the new member id.")
        @OptionGroup var data: DataOption
        @Option(help: "Full name.") var name: String
        @Option(help: "resident, elder, child, veteran, serviceman or military_family.") var group: MemberGroup
        @Option(help: "Year of birth.") var born: Int?
        @Option(help: "Phone number.") var phone: String?
        @Option(help: "A guardian's member id (children; repeat for several).") var guardian: [MemberID] = []
        @Option(help: "low_income, disabled, blind or hard_of_hearing (repeat for several).") var flag: [MemberFlag] = []

        func run() throws {
            let kiosk = try data.open()
            let guardians = guardian
            let member = try kiosk.database.addMember(
                NewMember(name: name, group: group, born: born, phone: phone, flags: Set(flag), guardians: guardians), at: Date())
            print(member.id)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List members (masked names unless --full).")
        @OptionGroup var data: DataOption
        @Option(help: "Only this group.") var group: MemberGroup?
        @Option(help: "Search by name, member id or phone ending.") var search: String?
        @Flag(help: "Show full names and phones (staff only).") var full = false

        func run() throws {
            let kiosk = try data.open()
            for m in try kiosk.database.members(group: group, search: search) {
                let name = full ? m.name : m.displayName
                var line = "\(m.id)  \(name.padding(toLength: 8, withPad: " ", startingAt: 0))  \(m.group.rawValue)"
                if let born = m.born { line += "  \(born)" }
                if full, let phone = m.phone { line += "  \(phone)" }
                if !m.flags.isEmpty { line += "  [" + m.flags.map(\.rawValue).sorted().joined(separator: ",") + "]" }
                if !m.active { line += "  (inactive)" }
                print(line)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one member with guardians and cards.")
        @OptionGroup var data: DataOption
        @Argument(help: "Member id, e.g. M000123.") var member: MemberID

        func run() throws {
            let kiosk = try data.open()
            let id = member
            guard let m = try kiosk.database.member(id) else { throw KioskError("no member \(id)") }
            print("\(m.id)  \(m.name)  (\(m.displayName))")
            print("  group: \(m.group.rawValue) \(m.group.zh)")
            if let born = m.born { print("  born: \(born)") }
            if let phone = m.phone { print("  phone: \(phone)") }
            if !m.flags.isEmpty { print("  flags: \(m.flags.map(\.rawValue).sorted().joined(separator: ", "))") }
            if !m.guardians.isEmpty { print("  guardians: \(m.guardians.map(\.description).joined(separator: ", "))") }
            print("  status: \(m.active ? "active" : "inactive")")
            for card in try kiosk.database.cards(of: id) {
                print(
                    "  card #\(card.serial) key \(card.keyID) issued \(card.issued) valid until \(card.validUntil)\(card.revoked ? " (revoked)" : "")"
                )
            }
        }
    }

    struct Deactivate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deactivate a member: their cards stop working, history is kept.")
        @OptionGroup var data: DataOption
        @Argument(help: "Member id, e.g. M000123.") var member: MemberID

        func run() throws {
            let kiosk = try data.open()
            let id = member
            try kiosk.database.deactivateMember(id, audit: AuditNote(staff: nil, action: "member.deactivate", member: id, at: Date()))
            print("\(id) deactivated")
        }
    }

    struct Reactivate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a deactivated member active again (audited); their old cards stay void: issue a new one.")
        @OptionGroup var data: DataOption
        @Argument(help: "Member id, e.g. M000123.") var member: MemberID

        func run() throws {
            let kiosk = try data.open()
            try kiosk.database.reactivateMember(
                member, audit: AuditNote(staff: nil, action: "member.reactivate", member: member, at: Date()))
            print("\(member) is active again; issue a new card with `jiayuan card issue \(member) --print`")
        }
    }

    struct Visits: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A member's check-ins, check-outs and refusals of the last days, newest first, in local time.")
        @OptionGroup var data: DataOption
        @Argument(help: "Member id, e.g. M000123.") var member: MemberID
        @Option(help: "How many days back (1 to 3660).") var days = 30

        func validate() throws {
            guard (1...3660).contains(days) else { throw ValidationError("--days is 1 to 3660") }
        }

        func run() throws {
            let kiosk = try data.open()
            guard try kiosk.database.member(member) != nil else { throw KioskError("no member \(member)") }
            let lines = try kiosk.visits(of: member, days: days, limit: 10_000)
            if lines.isEmpty { print("no visits of \(member) in the last \(days) days") }
            for line in lines { print(line.text) }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import members from CSV (header: name,group,born,phone,flags,guardians); all rows or none.")
        @OptionGroup var data: DataOption
        @Argument var file: String

        func run() throws {
            let kiosk = try data.open()
            guard let contents = FileManager.default.contents(atPath: file) else { throw KioskError("cannot read \(file)") }
            let members = try MemberImport.run(data: contents, file: file, into: kiosk.database, at: Date())
            print("imported \(members.count) members: \(members.first!.id) … \(members.last!.id)")
        }
    }
}
