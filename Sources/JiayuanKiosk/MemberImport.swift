import Foundation
import JiayuanDomain
import JiayuanStore

/// `jiayuan member import FILE.csv`: all rows or none.
///
/// The file format is ``MemberCSV``'s. A guardian phone number must belong to a member registered
/// earlier or in an earlier row of the same file.
public enum MemberImport {
    /// Parses and registers the members of a CSV file; errors name the file and line.
    /// The file is read by ``MemberCSV/parse(_:)`` (pure, no database) before anything is written.
    public static func run(data: Data, file: String, into db: AppDatabase, at now: Date) throws -> [Member] {
        let rows: [MemberCSV.Member]
        do {
            rows = try MemberCSV.parse(data)
        } catch {
            throw KioskError((error.line.map { "\(file):\($0): " } ?? "\(file): ") + error.message)
        }
        let batch = rows.map {
            NewMember(name: $0.name, group: $0.group, born: $0.born, phone: $0.phone, flags: $0.flags, guardians: $0.guardians)
        }

        // One transaction: a problem in any row leaves the register as it was.
        do {
            return try db.addMembers(batch, at: now) { index, new, lookup in
                var resolved = new
                for phone in rows[index].guardianPhones {
                    guard let id = try lookup(phone) else {
                        throw KioskError("\(file):\(rows[index].line): no member has the guardian phone \(phone)")
                    }
                    resolved.guardians.append(id)
                }
                return resolved
            }
        } catch let error as MemberBatchError {
            throw KioskError("\(file):\(rows[error.index].line): \(error.message); nothing was imported")
        }
    }
}
