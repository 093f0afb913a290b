import ArgumentParser
import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore

#if canImport(Glibc)
    import Glibc
#endif

/// `jiayuan staff`: front-desk accounts for the staff console.
struct StaffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "staff", abstract: "Staff accounts (PIN log-in for the staff console) and the audit log.",
        subcommands: [StaffAdd.self, StaffList.self, StaffUnlock.self, StaffAudit.self])
}

struct StaffAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a staff account; asks for the PIN twice on a terminal, or reads one line from standard input with --pin-stdin.")
    @OptionGroup var data: DataOption
    @Argument(help: "The name staff log in with.") var name: String
    @Option(help: "desk or admin.") var role: StaffRole
    @Flag(help: "Read the PIN (6 to 12 digits) from the first line of standard input, e.g. from a password manager.")
    var pinStdin = false
    /// Gone: a PIN on the command line shows in `ps` and in shell history. Kept only to say so (exit 64).
    @Option(help: .hidden) var pin: String?

    func validate() throws {
        if pin != nil {
            throw ValidationError(
                "--pin is gone: a PIN on the command line shows in ps; type it when asked, or pipe it in with --pin-stdin")
        }
        guard !name.isEmpty, name.count <= 64, !name.contains(where: { $0.isNewline }) else {
            throw ValidationError("a staff name is 1 to 64 characters on one line")
        }
    }

    func run() throws {
        let kiosk = try data.open()
        let chosen: String
        if pinStdin {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw KioskError("no PIN on standard input") }
            chosen = line.trimmingWhitespace()
        } else {
            guard isatty(0) == 1 else {
                throw KioskError(
                    "no terminal to type the PIN on: run this on a terminal, or give the PIN on standard input with --pin-stdin")
            }
            let first = try ask("PIN for \(name) (6-12 digits): ")
            if let problem = StaffPIN.problem(first) { throw KioskError(problem) }
            guard try ask("The same PIN again: ") == first else { throw KioskError("the two PINs differ; nothing was changed") }
            chosen = first
        }
        if let problem = StaffPIN.problem(chosen) { throw KioskError(problem) }
        var rng = SystemRandomNumberGenerator()
        let account = try kiosk.database.addStaff(
            name: name, role: role, pinHash: try PINHash.make(chosen, using: &rng), by: nil, at: Date())
        print("added \(account.role.rawValue) account \(account.name)")
    }

    func ask(_ prompt: String) throws -> String {
        guard let line = getpass(prompt) else { throw KioskError("no PIN was typed") }
        return String(cString: line)
    }
}

extension StaffRole: ExpressibleByArgument {}

struct StaffList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Staff accounts, their roles and locks.")
    @OptionGroup var data: DataOption

    func run() throws {
        let kiosk = try data.open()
        let now = Date()
        for a in try kiosk.database.staffAccounts() {
            var line = "\(a.name)\t\(a.role.rawValue)"
            if !a.active { line += "\tinactive" }
            if let until = StaffPolicy().isLocked(a.standing, at: now) { line += "\tlocked until \(ISOTime.format(until))" }
            print(line)
        }
    }
}

struct StaffUnlock: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unlock", abstract: "Lift the lock after wrong PINs.")
    @OptionGroup var data: DataOption
    @Argument(help: "The account's name.") var name: String

    func run() throws {
        try data.open().database.unlockStaff(name: name, by: nil, at: Date())
        print("unlocked \(name)")
    }
}

struct StaffAudit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The audit log of staff actions, newest first.")
    @OptionGroup var data: DataOption
    @Option(help: "How many entries.") var limit = 50

    func run() throws {
        for e in try data.open().database.auditLog(limit: limit) {
            let member = e.member.map { " \($0)" } ?? ""
            print("\(ISOTime.format(e.at))\t\(e.staff ?? "(command line)")\t\(e.action)\(member)\t\(e.detail)")
        }
    }
}
