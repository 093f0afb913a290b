import Testing

@testable import JiayuanDomain

@Suite("TOML reader")
struct TOMLTests {
    // MARK: Helpers (kept private to this suite)

    /// Parses `text`, recording an issue (and returning an empty table) if it throws.
    private func parse(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLTable {
        do {
            return try TOML.parse(text)
        } catch {
            Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation)
            return TOMLTable(line: 0)
        }
    }

    /// Parses `text` and expects a TOMLError on `line` whose message contains `fragment`.
    private func expectError(
        _ text: String, line: Int, _ fragment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            let table = try TOML.parse(text)
            Issue.record("expected an error containing '\(fragment)' but parsed \(table.keys)", sourceLocation: sourceLocation)
        } catch let error as TOMLError {
            #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
        }
    }

    private func table(_ value: TOMLValue?, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLTable {
        guard case .table(let t)? = value else {
            Issue.record("expected a table, got \(String(describing: value))", sourceLocation: sourceLocation)
            return TOMLTable(line: 0)
        }
        return t
    }

    private func list(_ value: TOMLValue?, sourceLocation: SourceLocation = #_sourceLocation) -> [TOMLValue] {
        guard case .array(let a)? = value else {
            Issue.record("expected a list, got \(String(describing: value))", sourceLocation: sourceLocation)
            return []
        }
        return a
    }

    private func float(_ value: TOMLValue?) -> Double? {
        if case .float(let d)? = value { return d }
        return nil
    }

    // MARK: The realistic kiosk config

    private let kioskConfig = """
        # Jiayuan kiosk
        kiosk_id = "desk-1"
        time_zone = "Asia/Shanghai"
        [checkin]
        debounce_seconds = 5
        [[venue]]
        id = "gym"
        name = { zh = "我型我塑健身房", en = "Gym" }
        hours = "06:00-21:00"
        capacity = 30
        groups = ["resident", "elder",
                  "veteran"]   # trailing comment
        [[venue]]
        id = "veterans"
        hours = "24h"
        """

    @Test func realisticKioskConfig() {
        let root = parse(kioskConfig)
        #expect(root.line == 1)
        #expect(root.keys == ["kiosk_id", "time_zone", "checkin", "venue"])
        #expect(root["kiosk_id"] == .string("desk-1"))
        #expect(root["time_zone"] == .string("Asia/Shanghai"))
        #expect(root.line(of: "kiosk_id") == 2)
        #expect(root.line(of: "time_zone") == 3)
        #expect(root.line(of: "checkin") == 4)
        #expect(root.line(of: "venue") == 6)
        #expect(root.line(of: "missing") == nil)
        #expect(root["missing"] == nil)

        let checkin = table(root["checkin"])
        #expect(checkin.line == 4)
        #expect(checkin["debounce_seconds"] == .integer(5))
        #expect(checkin.line(of: "debounce_seconds") == 5)

        let venues = list(root["venue"])
        #expect(venues.count == 2)
        let gym = table(venues.first)
        #expect(gym.line == 6)
        #expect(gym.keys == ["id", "name", "hours", "capacity", "groups"])
        #expect(gym["id"] == .string("gym"))
        #expect(gym["hours"] == .string("06:00-21:00"))
        #expect(gym["capacity"] == .integer(30))
        #expect(gym["groups"] == .array([.string("resident"), .string("elder"), .string("veteran")]))
        #expect(gym.line(of: "id") == 7)
        #expect(gym.line(of: "name") == 8)
        #expect(gym.line(of: "hours") == 9)
        #expect(gym.line(of: "capacity") == 10)
        #expect(gym.line(of: "groups") == 11)

        let name = table(gym["name"])
        #expect(name.line == 8)
        #expect(name.keys == ["zh", "en"])
        #expect(name["zh"] == .string("我型我塑健身房"))
        #expect(name["en"] == .string("Gym"))
        #expect(name.line(of: "en") == 8)

        let veterans = table(venues.last)
        #expect(veterans.line == 13)
        #expect(veterans.keys == ["id", "hours"])
        #expect(veterans["hours"] == .string("24h"))
        #expect(veterans.line(of: "id") == 14)
        #expect(veterans.line(of: "hours") == 15)
    }

    @Test func realisticConfigMistakes() {
        func edited(_ lineNumber: Int, _ replacement: String) -> String {
            var lines = kioskConfig.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            lines[lineNumber - 1] = replacement
            return lines.joined(separator: "\n")
        }
        expectError(edited(10, "hours = \"07:00\""), line: 10, "the key \"hours\" is defined twice (first on line 9)")
        expectError(edited(10, "capacity 30"), line: 10, "expected '=' after the key \"capacity\"")
        expectError(edited(10, "capacity ="), line: 10, "the key \"capacity\" has no value")
        expectError(edited(10, "capacity = 30 people"), line: 10, "unexpected \"people\" after the value of \"capacity\"")
        expectError(
            edited(9, "hours = 06:00-21:00"), line: 9,
            "dates and times are not supported here; write them as a string like \"06:00\"")
        expectError(
            edited(12, "          \"veteran\"   # trailing comment"), line: 11, "the list starting on this line is never closed with ']'")
        expectError(edited(7, "id = \"gym"), line: 7, "missing its closing quote")
        expectError(
            edited(8, "name = { zh = \"我型我塑健身房\", en = Gym }"), line: 8,
            "Gym is not a valid value; text must be put in quotes, like \"Gym\"")
        expectError(edited(4, "[checkin"), line: 4, "expected ']' to close the table header [checkin]")
        expectError(edited(13, "[venue]"), line: 13, "list of tables started with [[venue]] on line 6")
    }

    // MARK: Document structure, comments, line endings

    @Test func emptyAndBlankDocuments() {
        #expect(parse("").keys.isEmpty)
        #expect(parse("").line == 1)
        let t = parse("\n\n   \n# only a comment\n\t# indented comment\n")
        #expect(t.keys.isEmpty)
    }

    @Test func comments() {
        let t = parse(
            """
            # full line
            a = "x # not a comment" # real comment
            b = 'y#z'#tight
            c = [1, # inside a list
              2] # after
            # last line without newline
            """)
        #expect(t["a"] == .string("x # not a comment"))
        #expect(t["b"] == .string("y#z"))
        #expect(t["c"] == .array([.integer(1), .integer(2)]))
        #expect(t.line(of: "c") == 4)
    }

    @Test func whitespaceIsFlexible() {
        let t = parse("  a=1\n\tb\t=\t2  \n  [ sec ]  \n  c = 3")
        #expect(t["a"] == .integer(1))
        #expect(t["b"] == .integer(2))
        #expect(table(t["sec"])["c"] == .integer(3))
        #expect(t.line(of: "sec") == 3)
    }

    @Test func crlfLineEndings() {
        let t = parse("a = 1\r\n[t]\r\nb = \"\"\"\r\nx\r\ny\"\"\"\r\nc = 2\r\n# done\r\n")
        #expect(t["a"] == .integer(1))
        let sec = table(t["t"])
        #expect(sec.line == 2)
        #expect(sec["b"] == .string("x\ny"))
        #expect(sec["c"] == .integer(2))
        #expect(sec.line(of: "b") == 3)
        #expect(sec.line(of: "c") == 6)
        expectError("a = 1\r\nb = 2\r\nb = 3\r\n", line: 3, "the key \"b\" is defined twice (first on line 2)")
        expectError("a = 1\r\n\r\nb = [1,\r\n2\r\n", line: 3, "never closed")
    }

    @Test func strayCarriageReturnIsAnError() {
        expectError("a = 1\rb = 2", line: 1, "carriage-return")
        expectError("# note\r\n# x\ry\n", line: 2, "carriage-return")
    }

    @Test func leadingByteOrderMarkIsSkipped() {
        let t = parse("\u{FEFF}a = 1\nb = 2")
        #expect(t.keys == ["a", "b"])
        #expect(t.line(of: "b") == 2)
        expectError("\u{FEFF}a = 1\na = 2", line: 2, "defined twice (first on line 1)")
        let commentFirst = parse("\u{FEFF}# comment\nx = true")
        #expect(commentFirst["x"] == .bool(true))
    }

    // MARK: Keys

    @Test func bareAndQuotedKeys() {
        let t = parse(
            #"""
            bare_key-1 = 1
            1234 = 2
            "quoted key" = 3
            'literal "key"' = 4
            "a.b" = 5
            "" = 6
            "\u00e9t\u00e9" = 7
            ABC-def_9 = 8
            """#)
        #expect(t.keys == ["bare_key-1", "1234", "quoted key", "literal \"key\"", "a.b", "", "été", "ABC-def_9"])
        #expect(t["a.b"] == .integer(5))
        #expect(t[""] == .integer(6))
        #expect(t.line(of: "été") == 7)
        // Keys that look like other values are still keys; `1.2` is the dotted key 1 → 2.
        let odd = parse("true = 1\n1.2 = 3\ninf = 4\n-_- = 5")
        #expect(odd.keys == ["true", "1", "inf", "-_-"])
        #expect(table(odd["1"])["2"] == .integer(3))
    }

    @Test func dottedKeysCreateSubTables() {
        let t = parse(
            """
            title = "x"
            site.name = "Jiayuan"
            site . "door" . id = 3
            site.open = true
            """)
        #expect(t.keys == ["title", "site"])
        #expect(t.line(of: "site") == 2)
        let site = table(t["site"])
        #expect(site.line == 2)
        #expect(site.keys == ["name", "door", "open"])
        #expect(site.line(of: "door") == 3)
        #expect(site.line(of: "open") == 4)
        let door = table(site["door"])
        #expect(door.line == 3)
        #expect(door["id"] == .integer(3))
    }

    @Test func dottedKeysInsideSections() {
        let t = parse(
            """
            [fruit]
            apple.color = "red"
            apple.taste.sweet = true
            [fruit.apple.texture]
            smooth = true
            """)
        let apple = table(table(t["fruit"])["apple"])
        #expect(apple.keys == ["color", "taste", "texture"])
        #expect(table(apple["taste"])["sweet"] == .bool(true))
        #expect(table(apple["texture"]).line == 4)
        #expect(table(apple["texture"])["smooth"] == .bool(true))
    }

    @Test func keyErrors() {
        expectError("= 1", line: 1, "expected a key name but found '='")
        expectError("a = 1\n\na. = 1", line: 3, "expected a key name after \"a.\"")
        expectError("a = 1\n名字 = 1", line: 2, "the key name contains \"名\"")
        expectError("näme = 1", line: 1, "the key name contains \"ä\"")
        expectError("\"\"\"a\"\"\" = 1", line: 1, "a key name cannot be multi-line text")
        expectError("\"open = 1", line: 1, "missing its closing quote")
        expectError("a b = 1", line: 1, "expected '=' after the key \"a\"")
        expectError("x = 1\nsite.name", line: 2, "expected '=' after the key \"site.name\"")
        expectError("capacity: 30", line: 1, "expected '=' after the key \"capacity\"")
    }

    // MARK: Tables

    @Test func tableHeaders() {
        let t = parse(
            """
            top = 0

            [a.b]
            x = 1
            [a]
            y = 2
            [ a . "c.d" ]
            z = 3
            ['e f']
            [a.'g']
            """)
        #expect(t.keys == ["top", "a", "e f"])
        let a = table(t["a"])
        // `a` was first implied by [a.b] on line 3, then defined by [a] on line 5.
        #expect(a.line == 5)
        #expect(t.line(of: "a") == 5)
        #expect(a.keys == ["b", "y", "c.d", "g"])
        #expect(a.line(of: "b") == 3)
        #expect(table(a["b"]).line == 3)
        #expect(table(a["b"])["x"] == .integer(1))
        #expect(a["y"] == .integer(2))
        #expect(table(a["c.d"])["z"] == .integer(3))
        #expect(table(a["c.d"]).line == 7)
        #expect(table(t["e f"]).keys.isEmpty)
        #expect(table(t["e f"]).line == 9)
        #expect(a.line(of: "g") == 10)
    }

    @Test func arraysOfTables() {
        let t = parse(
            """
            [[fruit]]
            name = "apple"
            [fruit.physical]
            color = "red"
            [[fruit.variety]]
            name = "red delicious"
            [[fruit.variety]]
            name = "granny smith"

            [[fruit]]
            name = "banana"
            [[fruit.variety]]
            name = "plantain"
            [[ empty ]]
            [[empty]]
            """)
        #expect(t.keys == ["fruit", "empty"])
        #expect(t.line(of: "fruit") == 1)
        let fruit = list(t["fruit"])
        #expect(fruit.count == 2)
        let apple = table(fruit[0])
        #expect(apple.line == 1)
        #expect(apple.keys == ["name", "physical", "variety"])
        #expect(table(apple["physical"])["color"] == .string("red"))
        #expect(apple.line(of: "variety") == 5)
        let varieties = list(apple["variety"])
        #expect(varieties.count == 2)
        #expect(table(varieties[1])["name"] == .string("granny smith"))
        #expect(table(varieties[1]).line == 7)
        let banana = table(fruit[1])
        #expect(banana.line == 10)
        #expect(banana["name"] == .string("banana"))
        #expect(list(banana["variety"]).count == 1)
        #expect(banana.line(of: "variety") == 12)
        #expect(list(t["empty"]) == [.table(TOMLTable(line: 14)), .table(TOMLTable(line: 15))])
        #expect(t.line(of: "empty") == 14)
    }

    @Test func arrayOfTablesUnderTable() {
        let t = parse("[a]\nx = 1\n[[a.b]]\ny = 2\n[[a.b]]\ny = 3")
        let b = list(table(t["a"])["b"])
        #expect(b.count == 2)
        #expect(table(b[1])["y"] == .integer(3))
        #expect(table(t["a"]).line(of: "b") == 3)
        // An implicitly created parent may still get its own header later.
        let later = parse("[[a.b]]\n[a]\nc = 1")
        #expect(table(later["a"])["c"] == .integer(1))
    }

    @Test func tableErrors() {
        expectError("[a]\n[b]\n[a]", line: 3, "the table [a] is defined twice (first on line 1)")
        expectError("[a.b]\nx=1\n[a]\n[a]", line: 4, "the table [a] is defined twice (first on line 3)")
        expectError("[a.b]\n[a.b]", line: 2, "the table [a.b] is defined twice (first on line 1)")
        expectError("[a]\nb.c = 1\n[a.b]", line: 3, "the table [a.b] was already defined on line 2")
        expectError("[fruit]\napple.taste.sweet = true\n[fruit.apple.taste]", line: 3, "already defined on line 2")
        expectError("a = [1]\n[[a]]", line: 2, "cannot use [[a]]: \"a\" is already set to a fixed list on line 1")
        expectError("[[a]]\n[a]", line: 2, "\"a\" is a list of tables started with [[a]] on line 1")
        expectError("[a]\n[[a]]", line: 2, "\"a\" is already a single table (line 1)")
        expectError("[a.b]\n[[a]]", line: 2, "already a single table")
        expectError("a = {x = 1}\n[a]", line: 2, "the table [a] was already written in full with { ... } on line 1")
        expectError("a = {x = 1}\n[a.b]", line: 2, "the table \"a\" was written in full with { ... } on line 1")
        expectError("a = {x = 1}\na.y = 2", line: 2, "the table \"a\" was written in full with { ... } on line 1")
        expectError("a = 1\n[a]", line: 2, "the key \"a\" is already set to a whole number on line 1")
        expectError("a = \"s\"\n[a.b]", line: 2, "the key \"a\" is already set to a string on line 1")
        expectError("a = true\n[[a]]", line: 2, "already set to true/false on line 1")
        expectError("[a.b.c]\nz = 1\n[a]\nb.c.t = 2", line: 4, "the table \"b\" is already defined by a [header] on line 1")
        expectError("[[a.b]]\n[a]\nb.x = 1", line: 3, "cannot set \"b.x\": \"b\" is a list of tables started on line 1")
    }

    @Test func headerSyntaxErrors() {
        expectError("[]", line: 1, "expected a table name inside [ ]")
        expectError("x = 1\n[[]]", line: 2, "expected a table name inside [[ ]]")
        expectError("[a", line: 1, "expected ']' to close the table header [a] but found the end of the file")
        expectError("[a\nx = 1", line: 1, "expected ']' to close the table header [a] but found the end of the line")
        expectError("[[a]\nx = 1", line: 1, "expected ']]' to close the table header [[a]]")
        expectError("[[a] ]", line: 1, "expected ']]'")
        expectError("[a.]", line: 1, "expected a key name after \"a.\"")
        expectError("[a] x = 1", line: 1, "unexpected \"x = 1\" after the table header [a]")
        expectError("[a]]", line: 1, "unexpected \"]\" after the table header [a]")
        #expect(parse("[a] # comment")["a"] == .table(TOMLTable(line: 1)))
    }

    // MARK: Duplicate keys and missing values

    @Test func duplicateKeys() {
        expectError("a = 1\na = 2", line: 2, "the key \"a\" is defined twice (first on line 1)")
        expectError("[t]\nx = 1\n\nx = 2", line: 4, "the key \"x\" is defined twice (first on line 2)")
        expectError("a.b = 1\na.b = 2", line: 2, "the key \"a.b\" is defined twice (first on line 1)")
        expectError("a.b = 1\na = 2", line: 2, "the key \"a\" is defined twice (first on line 1)")
        expectError("a = 1\na.b = 2", line: 2, "cannot set \"a.b\": the key \"a\" is already set to a whole number on line 1")
        expectError("\"a\" = 1\n'a' = 2", line: 2, "defined twice (first on line 1)")
        expectError("a = 1\n\"a\" = 2", line: 2, "defined twice (first on line 1)")
        expectError("[a.b]\n[a]\nb = 1", line: 3, "the key \"b\" is defined twice (first on line 1)")
        expectError("[[t]]\nx = 1\nx = 2", line: 3, "defined twice (first on line 2)")
        // The same key in two [[entries]] is fine.
        #expect(list(parse("[[t]]\nx = 1\n[[t]]\nx = 2")["t"]).count == 2)
        // The reported line is the key's line even if the value spans lines.
        expectError("a = 1\na = [\n1,\n2]", line: 2, "defined twice (first on line 1)")
    }

    @Test func keysWithoutValues() {
        expectError("capacity =\nx = 1", line: 1, "the key \"capacity\" has no value after '='")
        expectError("capacity = # fill in later", line: 1, "the key \"capacity\" has no value")
        expectError("a = 1\ncapacity =", line: 2, "the key \"capacity\" has no value")
        expectError("capacity", line: 1, "expected '=' after the key \"capacity\"")
        expectError("\n\ncapacity 30", line: 3, "expected '=' after the key \"capacity\"")
        expectError("t = { a = }", line: 1, "the key \"a\" has no value")
        expectError("t = { a = , b = 1 }", line: 1, "the key \"a\" has no value")
        expectError("t = [ = ]", line: 1, "expected a value but found '='")
    }

    @Test func garbageAfterValues() {
        expectError("a = 1 2", line: 1, "unexpected \"2\" after the value of \"a\"; each setting must be on its own line")
        expectError("x = 0\na = \"x\" y", line: 2, "unexpected \"y\" after the value of \"a\"")
        expectError("a = [1] ]", line: 1, "unexpected \"]\"")
        expectError("a = true false", line: 1, "unexpected \"false\"")
        expectError("a = 1 b = 2", line: 1, "unexpected \"b = 2\"")
        expectError("a = 'x''y'", line: 1, "unexpected \"'y'\"")
        expectError("a = \"\"\"x\"\"\" y", line: 1, "unexpected \"y\"")
        expectError("a = \"\"\"\nx\n\"\"\" y", line: 3, "unexpected \"y\"")
        expectError("a = { b = 1 } c", line: 1, "unexpected \"c\"")
        expectError("a = 1 " + String(repeating: "z", count: 50), line: 1, "…\"")
    }

    // MARK: Strings

    @Test func basicStringEscapes() {
        let t = parse(
            #"""
            s = "b\bt\tn\nf\fr\rq\"s\\u\u00E9U\U0001F600"
            tab = "a	b"
            cjk = "我型我塑"
            empty = ""
            """#)
        #expect(t["s"] == .string("b\u{08}t\tn\nf\u{0C}r\rq\"s\\u\u{E9}U😀"))
        #expect(t["tab"] == .string("a\tb"))
        #expect(t["cjk"] == .string("我型我塑"))
        #expect(t["empty"] == .string(""))
    }

    @Test func basicStringErrors() {
        expectError(#"path = "C:\data""#, line: 1, #"unknown escape "\d" in text"#)
        expectError("a = 1\n" + #"x = "\e""#, line: 2, #"unknown escape "\e""#)
        expectError(#"x = "\u12""#, line: 1, #""\u" must be followed by exactly 4 hexadecimal digits"#)
        expectError(#"x = "\U1234""#, line: 1, #""\U" must be followed by exactly 8 hexadecimal digits"#)
        expectError(#"x = "\uD800""#, line: 1, #""\uD800" is not a valid Unicode character"#)
        expectError(#"x = "\U00110000""#, line: 1, "is not a valid Unicode character")
        expectError("a = \"abc", line: 1, "the text starting on this line is missing its closing quote")
        expectError("a = \"abc\nb = 1", line: 1, "missing its closing quote")
        expectError("a = \"abc\\\nb = 1", line: 1, "missing its closing quote")
        expectError("a = 1\nb = \"x\u{01}y\"", line: 2, "invisible control character (U+0001)")
        expectError("b = \"x\u{7F}\"", line: 1, "(U+007F)")
        expectError("b = \"x\u{1B}[0m\"", line: 1, "(U+001B)")
    }

    @Test func literalStrings() {
        let t = parse(
            #"""
            path = 'C:\data\new'
            quoted = 'Tom "Dubs" Preston'
            regex = '<\i\c*\s*>'
            """#)
        #expect(t["path"] == .string(#"C:\data\new"#))
        #expect(t["quoted"] == .string(#"Tom "Dubs" Preston"#))
        #expect(t["regex"] == .string(#"<\i\c*\s*>"#))
        expectError("a = 'abc", line: 1, "missing its closing quote")
        expectError("x = 1\na = 'abc\nb = 2", line: 2, "missing its closing quote")
        expectError("a = 'x\u{00}'", line: 1, "(U+0000)")
    }

    @Test func multiLineBasicStrings() {
        let t = parse(
            #"""
            a = """
            Roses are red
            Violets are blue"""
            b = """\
                The quick \
                brown fox \

                jumps."""
            c = """a "quoted" ""word"" \""" """""
            d = """x"""
            e = """
            """
            f = """tab	\u00e9\n"""
            after = 1
            """#)
        #expect(t["a"] == .string("Roses are red\nViolets are blue"))
        #expect(t["b"] == .string("The quick brown fox jumps."))
        #expect(t["c"] == .string(#"a "quoted" ""word"" """ """#))
        #expect(t["d"] == .string("x"))
        #expect(t["e"] == .string(""))
        #expect(t["f"] == .string("tab\té\n"))
        #expect(t.line(of: "a") == 1)
        #expect(t.line(of: "b") == 4)
        #expect(t.line(of: "c") == 9)
        #expect(t.line(of: "after") == 14)
    }

    @Test func multiLineBasicStringErrors() {
        expectError("x = 1\na = \"\"\"\nabc\n\nb = 1", line: 2, #"the multi-line text starting on this line is never closed with """"#)
        expectError("a = \"\"\"\nok\nbad\u{0B}\"\"\"", line: 3, "(U+000B)")
        expectError("a = \"\"\"\n\n\\q\"\"\"", line: 3, #"unknown escape "\q""#)
        expectError("a = \"\"\"x\"\"\"\"\"\"", line: 1, "too many quote marks")
        expectError("a = \"\"\"\nx\ry\"\"\"", line: 2, "carriage-return")
        expectError("x = 1\na = \"\"\"abc\\", line: 2, "never closed")
        expectError("a = \"\"\"\nabc\\   ", line: 1, "never closed")
        expectError("a = \"\"\"\\\n\n", line: 1, "never closed")
    }

    @Test func multiLineLiteralStrings() {
        let t = parse(
            #"""
            a = '''
            first
              C:\x \n
            '''
            b = '''it''s'''
            c = ''''quoted''''
            d = '''x'''
            after = 1
            """#)
        #expect(t["a"] == .string("first\n  C:\\x \\n\n"))
        #expect(t["b"] == .string("it''s"))
        #expect(t["c"] == .string("'quoted'"))
        #expect(t["d"] == .string("x"))
        #expect(t.line(of: "after") == 8)
        expectError("\na = '''x\ny", line: 2, "the multi-line text starting on this line is never closed with '''")
        expectError("a = '''\n\u{01}'''", line: 2, "(U+0001)")
    }

    // MARK: Numbers and booleans

    @Test func integers() {
        let t = parse(
            """
            a = 42
            b = +17
            c = -5
            d = 0
            e = 1_000_000
            f = 0xDEAD_beef
            g = 0o755
            h = 0b1101
            i = 9223372036854775807
            j = -9223372036854775808
            k = -0
            l = +0
            m = 0x7FFFFFFFFFFFFFFF
            n = 5_3_1
            """)
        #expect(t["a"] == .integer(42))
        #expect(t["b"] == .integer(17))
        #expect(t["c"] == .integer(-5))
        #expect(t["d"] == .integer(0))
        #expect(t["e"] == .integer(1_000_000))
        #expect(t["f"] == .integer(0xDEAD_BEEF))
        #expect(t["g"] == .integer(0o755))
        #expect(t["h"] == .integer(13))
        #expect(t["i"] == .integer(Int.max))
        #expect(t["j"] == .integer(Int.min))
        #expect(t["k"] == .integer(0))
        #expect(t["l"] == .integer(0))
        #expect(t["m"] == .integer(Int.max))
        #expect(t["n"] == .integer(531))
    }

    @Test func integerErrors() {
        expectError("zip = 012345", line: 1, "the number 012345 cannot start with 0; if it is a code, put it in quotes, like \"012345\"")
        expectError("n = -01", line: 1, "cannot start with 0")
        expectError("n = 1__0", line: 1, "1__0 is not a valid number")
        expectError("n = 1_", line: 1, "1_ is not a valid number")
        expectError("n = _1", line: 1, "_1 is not a valid value")
        expectError("n = 9223372036854775808", line: 1, "the number 9223372036854775808 is too large")
        expectError("x = 1\nn = -9223372036854775809", line: 2, "is too large")
        expectError("n = 0x8000000000000000", line: 1, "is too large")
        expectError("n = 0xFFFFFFFFFFFFFFFFFF", line: 1, "is too large")
        expectError("n = +0x1", line: 1, "a sign (+ or -) is not allowed before a 0x number")
        expectError("n = -0b1", line: 1, "not allowed before a 0b number")
        expectError("n = 0xg", line: 1, "0xg is not a valid number")
        expectError("n = 0x", line: 1, "0x is not a valid number")
        expectError("n = 0x_1", line: 1, "not a valid number")
        expectError("n = 0b102", line: 1, "not a valid number")
        expectError("n = 0o8", line: 1, "not a valid number")
        expectError("n = 0X1F", line: 1, "not a valid number")
        expectError("n = 12abc", line: 1, "12abc is not a valid number")
        expectError("n = +", line: 1, "+ is not a valid number")
        expectError("n = --1", line: 1, "not a valid number")
    }

    @Test func floats() {
        let t = parse(
            """
            a = 1.5
            b = -0.5
            c = 1e3
            d = 6.626e-34
            e = 5E+22
            f = inf
            g = -inf
            h = +inf
            i = nan
            j = 1_000.5
            k = 0.0
            l = -nan
            m = 0e0
            n = +3.25
            o = 1e0_1
            """)
        #expect(t["a"] == .float(1.5))
        #expect(t["b"] == .float(-0.5))
        #expect(t["c"] == .float(1000))
        #expect(t["d"] == .float(6.626e-34))
        #expect(t["e"] == .float(5e22))
        #expect(t["f"] == .float(.infinity))
        #expect(t["g"] == .float(-.infinity))
        #expect(t["h"] == .float(.infinity))
        #expect(float(t["i"])?.isNaN == true)
        #expect(t["j"] == .float(1000.5))
        #expect(t["k"] == .float(0))
        #expect(float(t["l"])?.isNaN == true)
        #expect(t["m"] == .float(0))
        #expect(t["n"] == .float(3.25))
        #expect(t["o"] == .float(1e1))
        #expect(t["i"]?.typeName == "a decimal number")
    }

    @Test func floatErrors() {
        expectError("f = 1.", line: 1, "1. is not a valid number")
        expectError("f = .5", line: 1, ".5 is not a valid number")
        expectError("f = 1.e5", line: 1, "not a valid number")
        expectError("f = 1e", line: 1, "not a valid number")
        expectError("f = 1e+", line: 1, "not a valid number")
        expectError("f = 1.2.3", line: 1, "not a valid number")
        expectError("f = 1_.5", line: 1, "not a valid number")
        expectError("f = 00.5", line: 1, "cannot start with 0")
        expectError("f = 1e400", line: 1, "the number 1e400 is too large")
        expectError("f = Inf", line: 1, "Inf is not a valid value")
        expectError("f = infinity", line: 1, "not a valid value")
    }

    @Test func booleans() {
        let t = parse("on = true\noff = false")
        #expect(t["on"] == .bool(true))
        #expect(t["off"] == .bool(false))
        expectError("x = True", line: 1, "write true or false in lowercase letters (found True)")
        expectError("x = 1\ny = FALSE", line: 2, "lowercase")
        expectError("x = yes", line: 1, "yes is not a valid value; text must be put in quotes, like \"yes\"")
        expectError("x = truely", line: 1, "truely is not a valid value")
    }

    @Test func unquotedText() {
        expectError("name = Gym", line: 1, "Gym is not a valid value; text must be put in quotes, like \"Gym\"")
        expectError("a = 1\n\nname = 我型我塑", line: 3, "我型我塑 is not a valid value")
        expectError("x = [resident]", line: 1, "resident is not a valid value")
    }

    @Test func datesAndTimesAreRejected() {
        let message = "dates and times are not supported here; write them as a string like \"06:00\""
        expectError("opens = 06:00", line: 1, message)
        expectError("x = 1\nhours = 06:00-21:00", line: 2, message)
        expectError("d = 1979-05-27", line: 1, message)
        expectError("d = 1979-05-27T07:32:00Z", line: 1, message)
        expectError("d = 1979-05-27 07:32:00", line: 1, message)
        expectError("d = 1979-05-27T00:32:00.999999-07:00", line: 1, message)
        expectError("t = 07:32:00", line: 1, message)
        expectError("t = [\n  \"06:00\",\n  07:00,\n]", line: 3, message)
        expectError("t = { open = 6:00 }", line: 1, message)
        #expect(parse("t = \"06:00\"")["t"] == .string("06:00"))
    }

    // MARK: Arrays

    @Test func arrays() {
        let t = parse(
            """
            ints = [1, 2, 3]
            mixed = [ 1, 2.5, "x", true, [1, 2], { k = 'v' } ]
            empty = []
            spaced = [ ]
            nested = [[], [[]]]
            multi = [
              "resident", # comment after an item
              # a comment on its own line

              "elder",
            ]
            trailing = [1,2,]
            tables = [
              { id = "gym" },
              { id = "pool", open = false },
            ]
            strings = ["a,b", 'c]d', \"\"\"e
            f\"\"\", '''g'''] # ok
            after = 1
            """)
        #expect(t["ints"] == .array([.integer(1), .integer(2), .integer(3)]))
        let mixed = list(t["mixed"])
        #expect(mixed.count == 6)
        #expect(mixed[0] == .integer(1))
        #expect(mixed[1] == .float(2.5))
        #expect(mixed[2] == .string("x"))
        #expect(mixed[3] == .bool(true))
        #expect(mixed[4] == .array([.integer(1), .integer(2)]))
        #expect(table(mixed[5])["k"] == .string("v"))
        #expect(t["empty"] == .array([]))
        #expect(t["spaced"] == .array([]))
        #expect(t["nested"] == .array([.array([]), .array([.array([])])]))
        #expect(t["multi"] == .array([.string("resident"), .string("elder")]))
        #expect(t.line(of: "multi") == 6)
        #expect(t["trailing"] == .array([.integer(1), .integer(2)]))
        let tables = list(t["tables"])
        #expect(tables.count == 2)
        #expect(table(tables[0]).line == 14)
        #expect(table(tables[1]).line == 15)
        #expect(table(tables[1])["open"] == .bool(false))
        #expect(t["strings"] == .array([.string("a,b"), .string("c]d"), .string("e\nf"), .string("g")]))
        #expect(t.line(of: "after") == 19)
    }

    @Test func arrayErrors() {
        expectError("a = [1, 2", line: 1, "the list starting on this line is never closed with ']'")
        expectError("x = 1\na = [\n  1,\n  2\n", line: 2, "never closed with ']'")
        expectError("a = [1,\n2\nb = 3", line: 1, "never closed")
        expectError("a = [1,\nb = 3", line: 1, "never closed")
        expectError("a = [\nb = 3", line: 1, "never closed")
        expectError("a = [1, 2\n[t]\nx = 1", line: 1, "never closed")
        expectError("a = [1, \"b\" = 2]", line: 1, "never closed")
        expectError("a = [1 2]", line: 1, "expected a comma or ']' after the list item, but found '2'")
        expectError("a = [\n  1\n  2\n]", line: 2, "expected a comma or ']' after the list item")
        expectError("a = [,]", line: 1, "a list cannot start with a comma")
        expectError("a = [1,,2]", line: 1, "two commas in a row")
        expectError("a = [1, # comment\n \"x\u{01}\"]", line: 2, "(U+0001)")
        expectError("a = [\"ok\",\n\"bad]", line: 2, "missing its closing quote")
        expectError(String(repeating: "[", count: 50) + "x", line: 1, "expected a key name but found '['")  // a header, not a value
        expectError("a = " + String(repeating: "[", count: 200), line: 1, "nested too deeply")
        expectError("a = " + String(repeating: "{ b = ", count: 200), line: 1, "nested too deeply")
    }

    // MARK: Inline tables

    @Test func inlineTables() {
        let t = parse(
            """
            point = { x = 1, y = 2 }
            empty = {}
            spaced = {   }
            person = { name = { first = "Tom", "last" = 'P' }, pos.x = 1, pos.y = 2 }
            nested = { list = [1,
              2], text = \"\"\"a
            b\"\"\" }
            after = true
            """)
        let point = table(t["point"])
        #expect(point.keys == ["x", "y"])
        #expect(point.line == 1)
        #expect(t["empty"] == .table(TOMLTable(line: 2)))
        #expect(table(t["spaced"]).keys.isEmpty)
        let person = table(t["person"])
        #expect(person.keys == ["name", "pos"])
        #expect(table(person["name"])["last"] == .string("P"))
        #expect(table(person["pos"]).keys == ["x", "y"])
        #expect(table(person["pos"]).line == 4)
        let nested = table(t["nested"])
        #expect(nested["list"] == .array([.integer(1), .integer(2)]))
        #expect(nested["text"] == .string("a\nb"))
        #expect(t.line(of: "after") == 8)
    }

    @Test func inlineTableErrors() {
        expectError("a = { b = 1, }", line: 1, "remove the comma before '}'")
        expectError("a = { b = 1\n}", line: 1, "missing its closing '}' (it must be written on one line)")
        expectError("x = 0\na = { b = 1,\n c = 2 }", line: 2, "missing its closing '}'")
        expectError("a = {", line: 1, "missing its closing '}'")
        expectError("a = { b = 1, b = 2 }", line: 1, "the key \"b\" is defined twice (first on line 1)")
        expectError("a = { b.c = 1, b = 2 }", line: 1, "defined twice")
        expectError("a = { b = 1 c = 2 }", line: 1, "expected a comma or '}' in the table { ... }, but found 'c'")
        expectError("a = { b = 1 } # fine\na.c = 2", line: 2, "written in full")
        expectError("a = { , }", line: 1, "expected a key name but found ','")
        expectError("a = { b = 1 # no comments inside\n}", line: 1, "missing its closing '}'")
    }

    @Test func lookAlikeCharactersFromChineseKeyboards() {
        expectError(
            "capacity \u{FF1D} 30", line: 1,
            "expected '=' after the key \"capacity\" (use the ordinary '=' instead of the full-width '\u{FF1D}')")
        expectError("capacity\u{FF1D}30", line: 1, "unexpected '\u{FF1D}' after the key \"capacity\" (use the ordinary '='")
        expectError("capacity\u{3000}= 30", line: 1, "(a full-width space; use an ordinary space)")
        expectError("a = [\"x\"\u{FF0C} \"y\"]", line: 1, "but found '\u{FF0C}' (use the ordinary ','")
        expectError("name = \u{201C}Gym\u{201D}", line: 1, "use straight quotes \" or ' instead of curly quotes")
        expectError("a = 1\n\u{07}", line: 2, "expected a key name but found an invisible control character (U+0007)")
    }

    // MARK: Public API details

    @Test func typeNames() {
        #expect(TOMLValue.string("x").typeName == "a string")
        #expect(TOMLValue.integer(1).typeName == "a whole number")
        #expect(TOMLValue.float(1).typeName == "a decimal number")
        #expect(TOMLValue.bool(true).typeName == "true/false")
        #expect(TOMLValue.array([]).typeName == "a list")
        #expect(TOMLValue.table(TOMLTable(line: 1)).typeName == "a table")
    }

    @Test func errorDescriptionAndEquality() {
        let error = TOMLError(line: 3, message: "the key \"hours\" is defined twice (first on line 2)")
        #expect(error.description == "line 3: the key \"hours\" is defined twice (first on line 2)")
        #expect(error == TOMLError(line: 3, message: "the key \"hours\" is defined twice (first on line 2)"))
        #expect(error != TOMLError(line: 4, message: error.message))
        #expect(throws: TOMLError(line: 1, message: "expected '=' after the key \"capacity\"")) {
            try TOML.parse("capacity")
        }
    }

    @Test func emptyTableAndEquality() {
        let empty = TOMLTable(line: 7)
        #expect(empty.line == 7)
        #expect(empty.keys.isEmpty)
        #expect(empty["x"] == nil)
        #expect(empty.line(of: "x") == nil)
        // Equality compares contents, not line numbers or key order.
        #expect(parse("a = 1\nb = 2") == parse("\n\nb = 2\na = 1"))
        #expect(parse("a = 1") != parse("a = 2"))
        #expect(parse("a = 1") != parse("a = 1\nb = 1"))
        var built = TOMLTable(line: 1)
        built.set("a", .integer(1), line: 5)
        #expect(built == parse("a = 1"))
        #expect(built.line(of: "a") == 5)
        built.set("a", .integer(2), line: 6)
        #expect(built.keys == ["a"])
        #expect(built["a"] == .integer(2))
    }

    @Test func errorLinesAfterMultiLineValues() {
        expectError("a = \"\"\"\none\ntwo\n\"\"\"\nb = 1\nb = 2", line: 6, "defined twice (first on line 5)")
        expectError("a = [\n # c\n 1, # x\n]\nb = 1 x", line: 5, "unexpected \"x\"")
        expectError("a = '''\n\n'''\n[t]\n[t]", line: 5, "defined twice (first on line 4)")
        expectError("a = \"\"\"\\\n\n\n   x\"\"\"\nb =", line: 5, "has no value")
    }
}
