import GRDB

extension AppDatabase {
    /// The schema, one migration per shipped change. Shipped migrations are never edited.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: members, cards, attendance log") { db in
            try db.execute(
                sql: """
                    CREATE TABLE member (
                      id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 999999),
                      name TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 64),
                      "group" TEXT NOT NULL CHECK ("group" IN ('resident','elder','child','veteran','serviceman','military_family')),
                      born INTEGER CHECK (born IS NULL OR born BETWEEN 1900 AND 2100),
                      phone TEXT CHECK (phone IS NULL OR length(phone) BETWEEN 3 AND 20),
                      flags TEXT NOT NULL DEFAULT '',
                      active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                      created_at TEXT NOT NULL
                    );
                    CREATE INDEX member_phone ON member(phone);
                    CREATE TABLE guardian (
                      child INTEGER NOT NULL REFERENCES member(id),
                      guardian INTEGER NOT NULL REFERENCES member(id),
                      PRIMARY KEY (child, guardian),
                      CHECK (child <> guardian)
                    );
                    CREATE TABLE card (
                      member INTEGER NOT NULL REFERENCES member(id),
                      serial INTEGER NOT NULL CHECK (serial BETWEEN 1 AND 65535),
                      key_id INTEGER NOT NULL CHECK (key_id BETWEEN 0 AND 255),
                      issued_day INTEGER NOT NULL,
                      valid_until_day INTEGER NOT NULL CHECK (valid_until_day >= issued_day),
                      code TEXT NOT NULL UNIQUE,
                      issued_at TEXT NOT NULL,
                      revoked_at TEXT,
                      PRIMARY KEY (member, serial)
                    );
                    CREATE TABLE legacy_card (
                      number TEXT PRIMARY KEY CHECK (length(number) BETWEEN 4 AND 20),
                      member INTEGER NOT NULL REFERENCES member(id),
                      registered_at TEXT NOT NULL
                    );
                    CREATE TABLE event (
                      seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                      id TEXT NOT NULL UNIQUE,
                      at TEXT NOT NULL,
                      venue TEXT NOT NULL,
                      member INTEGER,
                      "group" TEXT,
                      direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
                      outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'denied')),
                      reason TEXT CHECK ((outcome = 'accepted') = (reason IS NULL)),
                      via TEXT NOT NULL CHECK (via IN ('scan', 'auto', 'staff')),
                      code_digest TEXT,
                      prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                      hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
                    );
                    CREATE INDEX event_code ON event(code_digest, venue, seq) WHERE code_digest IS NOT NULL;
                    CREATE INDEX event_at ON event(at);
                    CREATE TRIGGER event_append_only_update BEFORE UPDATE ON event
                      BEGIN SELECT RAISE(ABORT, 'the attendance log is append-only'); END;
                    CREATE TRIGGER event_append_only_delete BEFORE DELETE ON event
                      BEGIN SELECT RAISE(ABORT, 'the attendance log is append-only'); END;
                    CREATE TABLE presence (
                      venue TEXT NOT NULL,
                      member INTEGER NOT NULL,
                      "group" TEXT NOT NULL,
                      since TEXT NOT NULL,
                      since_seq INTEGER NOT NULL REFERENCES event(seq),
                      pickup_code TEXT,
                      PRIMARY KEY (venue, member)
                    ) WITHOUT ROWID;
                    CREATE TABLE pickup_code (
                      day TEXT NOT NULL,
                      code TEXT NOT NULL CHECK (length(code) = 3),
                      venue TEXT NOT NULL,
                      member INTEGER NOT NULL,
                      checkin_seq INTEGER NOT NULL REFERENCES event(seq),
                      checkout_seq INTEGER REFERENCES event(seq),
                      PRIMARY KEY (day, code)
                    );
                    CREATE TABLE daycare_fee (
                      checkout_seq INTEGER PRIMARY KEY REFERENCES event(seq),
                      member INTEGER NOT NULL,
                      venue TEXT NOT NULL,
                      checkin_at TEXT NOT NULL,
                      checkout_at TEXT NOT NULL,
                      kind TEXT NOT NULL CHECK (kind IN ('half_day', 'full_day')),
                      lunch INTEGER NOT NULL CHECK (lunch IN (0, 1)),
                      amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
                      free INTEGER NOT NULL CHECK (free IN (0, 1)),
                      paid_at TEXT
                    );
                    CREATE TABLE alert (
                      id INTEGER PRIMARY KEY,
                      kind TEXT NOT NULL,
                      venue TEXT NOT NULL,
                      member INTEGER,
                      since_seq INTEGER,
                      raised_at TEXT NOT NULL,
                      resolved_at TEXT,
                      UNIQUE (kind, venue, member, since_seq)
                    );
                    """)
        }
        migrator.registerMigration("v2: print queue and service slips") { db in
            try db.execute(
                sql: """
                    CREATE TABLE print_job (
                      id INTEGER PRIMARY KEY,
                      kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 40),
                      document_no TEXT,
                      target TEXT NOT NULL CHECK (target LIKE 'file:_%' OR target LIKE 'cups:_%'),
                      bytes BLOB NOT NULL,
                      state TEXT NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'submitting', 'submitted', 'printed', 'failed')),
                      attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                      next_attempt_at TEXT NOT NULL,
                      cups_job_id INTEGER,
                      last_error TEXT,
                      created_at TEXT NOT NULL,
                      updated_at TEXT NOT NULL,
                      reprint_of INTEGER REFERENCES print_job(id)
                    );
                    CREATE INDEX print_job_due ON print_job(state, next_attempt_at);
                    CREATE TABLE heartbeat (
                      id INTEGER PRIMARY KEY CHECK (id = 1),
                      at TEXT NOT NULL
                    );
                    CREATE TABLE service_slip (
                      number TEXT NOT NULL,
                      kind TEXT NOT NULL CHECK (kind IN ('repair', 'meal', 'queue')),
                      day TEXT NOT NULL,
                      seq_of_day INTEGER NOT NULL CHECK (seq_of_day >= 1),
                      member INTEGER REFERENCES member(id),
                      details TEXT NOT NULL,
                      deadline TEXT,
                      created_at TEXT NOT NULL,
                      PRIMARY KEY (kind, day, seq_of_day)
                    );
                    """)
        }
        migrator.registerMigration("v3: upload state") { db in
            // Events are never changed by an upload: how far the hub has acknowledged is kept here.
            try db.execute(
                sql: """
                    CREATE TABLE upload_state (
                      id INTEGER PRIMARY KEY CHECK (id = 1),
                      acknowledged_through INTEGER NOT NULL DEFAULT 0 CHECK (acknowledged_through >= 0),
                      last_success_at TEXT,
                      last_attempt_at TEXT,
                      last_error TEXT,
                      conflict_seq INTEGER,
                      conflict_reason TEXT
                    );
                    INSERT INTO upload_state (id) VALUES (1);
                    """)
        }
        migrator.registerMigration("v4: staff accounts, sessions and the audit log") { db in
            try db.execute(
                sql: """
                    CREATE TABLE staff (
                      id INTEGER PRIMARY KEY,
                      name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
                      role TEXT NOT NULL CHECK (role IN ('desk', 'admin')),
                      pin_hash TEXT NOT NULL CHECK (pin_hash LIKE 'pbkdf2-sha256$%'),
                      failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
                      locked_until TEXT,
                      active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                      created_at TEXT NOT NULL
                    );
                    CREATE TABLE staff_session (
                      token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64),
                      staff INTEGER NOT NULL REFERENCES staff(id),
                      csrf TEXT NOT NULL CHECK (length(csrf) >= 32),
                      created_at TEXT NOT NULL,
                      last_seen TEXT NOT NULL
                    );
                    CREATE TABLE audit (
                      id INTEGER PRIMARY KEY,
                      at TEXT NOT NULL,
                      staff INTEGER REFERENCES staff(id),
                      action TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
                      member INTEGER,
                      detail TEXT NOT NULL DEFAULT ''
                    );
                    CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
                      BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
                      BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    """)
        }
        migrator.registerMigration("v5: card revocations") { db in
            // What withdraws cards, here and at other desks (docs/security.md, "Card keys and revocations"):
            // cards of `member` signed by `key_id` with serial < value ('below') or = value ('serial'), and cards
            // of `member` signed by any other key issued on or before card day value ('others_through').
            // `local` rows were made here and travel in `card keys --json`; the others came with `card trust`.
            try db.execute(
                sql: """
                    CREATE TABLE card_revocation (
                      member INTEGER NOT NULL CHECK (member BETWEEN 0 AND 4294967295),
                      key_id INTEGER NOT NULL CHECK (key_id BETWEEN 0 AND 255),
                      kind TEXT NOT NULL CHECK (kind IN ('below', 'serial', 'others_through')),
                      value INTEGER NOT NULL CHECK (value BETWEEN 0 AND 65535),
                      local INTEGER NOT NULL CHECK (local IN (0, 1)),
                      recorded_at TEXT NOT NULL,
                      PRIMARY KEY (member, key_id, kind, value)
                    ) WITHOUT ROWID;
                    CREATE INDEX card_key ON card (key_id);
                    INSERT INTO card_revocation (member, key_id, kind, value, local, recorded_at)
                      SELECT member, key_id, 'below', MAX(serial), 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
                      FROM card GROUP BY member, key_id HAVING MAX(serial) > 1;
                    INSERT INTO card_revocation (member, key_id, kind, value, local, recorded_at)
                      SELECT member, key_id, 'others_through', MAX(issued_day) - 1, 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
                      FROM card GROUP BY member, key_id HAVING MAX(issued_day) >= 1;
                    """)
        }
        migrator.registerMigration("v6: staff sign-in failures per computer") { db in
            // Wrong PINs are counted per (computer, name), so a stranger's guesses lock only the stranger's
            // computer out of that name, never the desk (issue 12). Unknown names are counted the same way.
            try db.execute(
                sql: """
                    CREATE TABLE staff_signin (
                      source TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 64),
                      name TEXT NOT NULL CHECK (length(name) <= 256),
                      failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
                      locked_until TEXT,
                      last_at TEXT NOT NULL,
                      PRIMARY KEY (source, name)
                    ) WITHOUT ROWID;
                    """)
        }
        // Issue 13: new pickup codes have 6 characters; the day's 3-character ones stay valid until used.
        migrator.registerMigration("v7: pickup codes of 3 to 8 characters") { db in
            try db.execute(
                sql: """
                    CREATE TABLE pickup_code_new (
                      day TEXT NOT NULL,
                      code TEXT NOT NULL CHECK (length(code) BETWEEN 3 AND 8),
                      venue TEXT NOT NULL,
                      member INTEGER NOT NULL,
                      checkin_seq INTEGER NOT NULL REFERENCES event(seq),
                      checkout_seq INTEGER REFERENCES event(seq),
                      PRIMARY KEY (day, code)
                    );
                    INSERT INTO pickup_code_new (day, code, venue, member, checkin_seq, checkout_seq)
                      SELECT day, code, venue, member, checkin_seq, checkout_seq FROM pickup_code;
                    DROP TABLE pickup_code;
                    ALTER TABLE pickup_code_new RENAME TO pickup_code;
                    """)
        }
        migrator.registerMigration("v8: a member's visits by member") { db in
            try db.execute(sql: "CREATE INDEX event_member ON event(member, seq) WHERE member IS NOT NULL")
        }
        // Issue 17: a wrong check-in is voided by a correction event (`outcome` void, `corrects` = its seq), never
        // edited. SQLite cannot change a CHECK, so the log's table is rebuilt once with the same rows; a
        // day-care fee tied to a voided visit is waived with the reason.
        migrator.registerMigration("v9-corrections") { db in
            try db.execute(
                sql: """
                    CREATE TABLE event_new (
                      seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                      id TEXT NOT NULL UNIQUE,
                      at TEXT NOT NULL,
                      venue TEXT NOT NULL,
                      member INTEGER,
                      "group" TEXT,
                      direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
                      outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'denied', 'void')),
                      reason TEXT CHECK ((outcome = 'denied') = (reason IS NOT NULL)),
                      via TEXT NOT NULL CHECK (via IN ('scan', 'auto', 'staff')),
                      code_digest TEXT,
                      prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                      hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
                      corrects INTEGER UNIQUE REFERENCES event(seq)
                        CHECK ((outcome = 'void') = (corrects IS NOT NULL) AND (corrects IS NULL OR corrects < seq))
                    );
                    INSERT INTO event_new (seq, id, at, venue, member, "group", direction, outcome, reason, via, code_digest, prev_hash, hash)
                      SELECT seq, id, at, venue, member, "group", direction, outcome, reason, via, code_digest, prev_hash, hash FROM event;
                    DROP TABLE event;
                    ALTER TABLE event_new RENAME TO event;
                    CREATE INDEX event_code ON event(code_digest, venue, seq) WHERE code_digest IS NOT NULL;
                    CREATE INDEX event_at ON event(at);
                    CREATE INDEX event_member ON event(member, seq) WHERE member IS NOT NULL;
                    CREATE TRIGGER event_append_only_update BEFORE UPDATE ON event
                      BEGIN SELECT RAISE(ABORT, 'the attendance log is append-only'); END;
                    CREATE TRIGGER event_append_only_delete BEFORE DELETE ON event
                      BEGIN SELECT RAISE(ABORT, 'the attendance log is append-only'); END;
                    ALTER TABLE daycare_fee ADD COLUMN waived_by INTEGER REFERENCES event(seq);
                    ALTER TABLE daycare_fee ADD COLUMN waived_reason TEXT;
                    """)
        }
        // Issue 16: a guardian's drop-off brings several children in under one pickup code. Each child keeps its
        // own pickup_code row (so every check-out path settles it as before), tied to its drop-off; a code
        // without a drop-off still names one child only.
        migrator.registerMigration("v10-household") { db in
            try db.execute(
                sql: """
                    CREATE TABLE dropoff (
                      id INTEGER PRIMARY KEY,
                      day TEXT NOT NULL,
                      code TEXT NOT NULL CHECK (length(code) BETWEEN 3 AND 8),
                      venue TEXT NOT NULL,
                      guardian INTEGER NOT NULL,
                      at TEXT NOT NULL,
                      via TEXT NOT NULL CHECK (via IN ('scan', 'staff')),
                      UNIQUE (day, code)
                    );
                    CREATE TABLE pickup_code_new (
                      day TEXT NOT NULL,
                      code TEXT NOT NULL CHECK (length(code) BETWEEN 3 AND 8),
                      venue TEXT NOT NULL,
                      member INTEGER NOT NULL,
                      checkin_seq INTEGER NOT NULL REFERENCES event(seq),
                      checkout_seq INTEGER REFERENCES event(seq),
                      dropoff INTEGER REFERENCES dropoff(id),
                      collected_by INTEGER,
                      PRIMARY KEY (day, code, member)
                    );
                    INSERT INTO pickup_code_new (day, code, venue, member, checkin_seq, checkout_seq)
                      SELECT day, code, venue, member, checkin_seq, checkout_seq FROM pickup_code;
                    DROP TABLE pickup_code;
                    ALTER TABLE pickup_code_new RENAME TO pickup_code;
                    CREATE UNIQUE INDEX pickup_code_one_child ON pickup_code(day, code) WHERE dropoff IS NULL;
                    CREATE INDEX pickup_code_checkin ON pickup_code(checkin_seq);
                    CREATE INDEX pickup_code_dropoff ON pickup_code(dropoff) WHERE dropoff IS NOT NULL;
                    """)
        }
        return migrator
    }
}
