/// The complete result of one statement, copied out of libpq: column names and rows of text values.
///
/// Values are in PostgreSQL's text format (`t`/`f` for booleans, `2024-05-01` for dates, …); `nil` is SQL NULL.
public struct PGResult: Sendable, Equatable {
    /// Column names, in order.
    public let columns: [String]
    /// Rows, each with one value per column; `nil` is SQL NULL.
    public let rows: [[String?]]
    /// Rows inserted, updated, deleted, copied, fetched or selected, as the server reports it; 0 when it reports none.
    public let affectedRows: Int
    /// The server's command tag, such as `INSERT 0 1`, `UPDATE 3`, `SELECT 2` or `COMMIT`.
    public let commandTag: String

    /// Creates a result (mostly useful in tests).
    public init(columns: [String], rows: [[String?]], affectedRows: Int, commandTag: String = "") {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
        self.commandTag = commandTag
    }

    /// The number of rows.
    public var count: Int { rows.count }

    /// The position of the first column with this name, or `nil` if there is none.
    public func columnIndex(_ name: String) -> Int? {
        columns.firstIndex(of: name)
    }

    /// The value at `row` in column `col` as text; `nil` for SQL NULL, an unknown column or a row out of range.
    public func string(_ row: Int, _ col: String) -> String? {
        guard rows.indices.contains(row), let c = columnIndex(col), rows[row].indices.contains(c) else { return nil }
        return rows[row][c]
    }

    /// The value at `row` in column `col` as an integer; `nil` for SQL NULL, text that is not an integer,
    /// an unknown column or a row out of range.
    public func int64(_ row: Int, _ col: String) -> Int64? {
        string(row, col).flatMap { Int64($0) }
    }

    /// The value at `row` in column `col` as a boolean (`t`/`true` or `f`/`false`); `nil` for SQL NULL,
    /// anything else, an unknown column or a row out of range.
    public func bool(_ row: Int, _ col: String) -> Bool? {
        switch string(row, col) {
        case "t", "true": return true
        case "f", "false": return false
        default: return nil
        }
    }
}
