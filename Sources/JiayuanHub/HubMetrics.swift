import Foundation
import JiayuanDomain
import Prometheus

/// Why the hub did not store a batch, as the `reason` label of `jiayuan_hub_batches_refused_total`.
public enum HubRefusal: String, CaseIterable, Sendable {
    /// 409: the batch contradicts the chain held.
    case conflict
    /// 409 with `expected_seq`: events are missing before it.
    case gap
    /// 413: the body, its inflated size or its event count is over the limit.
    case tooLarge = "too_large"
    /// 401: no token, or an unknown one.
    case unauthorized
    /// 403: the token belongs to another kiosk or centre.
    case forbidden
    /// 400 or 415: unreadable.
    case badRequest = "bad_request"
    /// 503: the hub is saturated; the kiosk comes back after `Retry-After`.
    case busy
}

/// Events stored per minute over the last hour, counted by this instance (a ring of 60 one-minute buckets).
final class MinuteWindow: @unchecked Sendable {
    private let lock = NSLock()
    private var buckets = [Int64](repeating: 0, count: 60)
    private var minutes = [Int64](repeating: -1, count: 60)

    func add(_ n: Int, at date: Date) {
        let minute = Int64(date.timeIntervalSince1970 / 60)
        let i = Int(minute % 60)
        lock.withLock {
            if minutes[i] != minute {
                minutes[i] = minute
                buckets[i] = 0
            }
            buckets[i] += Int64(n)
        }
    }

    /// The counts of the `count` whole minutes before the one `date` is in, oldest first.
    func last(_ count: Int, before date: Date) -> [Int64] {
        let now = Int64(date.timeIntervalSince1970 / 60)
        return lock.withLock {
            (1...min(count, 59)).reversed().map { back in
                let minute = now - Int64(back)
                let i = Int(minute % 60)
                return minutes[i] == minute ? buckets[i] : 0
            }
        }
    }
}

/// The hub's counters for operators, written in Prometheus' text format by swift-prometheus at `GET /metrics`.
/// They count this instance's work since it started; the per-kiosk gauges come from the database, so every
/// instance reports the same values for them. Labels carry kiosk and centre ids only: never a token, a
/// member or an event.
public final class HubMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let eventsStored: Counter
    let batchesAccepted: Counter
    let refusals: [HubRefusal: Counter]
    let working: Gauge
    let waiting: Gauge
    let minutes = MinuteWindow()
    let startedAt: Date
    /// The refusals again, readable (Prometheus counters only write themselves out).
    let refusedTotals = LockedBox<[HubRefusal: Int64]>([:])

    /// Empty counters.
    public init(now: Date = Date()) {
        startedAt = now
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "jiayuan_hub", metricName: metric, unitName: unit, helpText: help)
        }
        eventsStored = registry.makeCounter(
            descriptor: name("events_stored", "total", "Events stored by this instance (resends of events already held not counted)."))
        batchesAccepted = registry.makeCounter(
            descriptor: name("batches_accepted", "total", "Batches answered 200 by this instance (resends included)."))
        let refused = name(
            "batches_refused", "total",
            "Batches not stored, by reason: conflict, gap (409), too_large (413), unauthorized (401), forbidden (403), bad_request (400, 415), busy (503)."
        )
        var refusals: [HubRefusal: Counter] = [:]
        for reason in HubRefusal.allCases {
            refusals[reason] = registry.makeCounter(descriptor: refused, labels: [("reason", reason.rawValue)])
        }
        self.refusals = refusals
        working = registry.makeGauge(descriptor: name("batches_working", "", "Batches this instance is working on now."))
        waiting = registry.makeGauge(descriptor: name("batches_waiting", "", "Batches waiting for a slot on this instance now."))
        registry.makeGauge(descriptor: name("started", "timestamp_seconds", "When this instance started (Unix time).")).set(
            now.timeIntervalSince1970)
    }

    static let buckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    /// Records how long a request to `route` took, by its status class.
    func observe(route: String, status: Int, duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "jiayuan_hub", metricName: "request_duration", unitName: "seconds",
                helpText: "Time from a request's head to its answer, by route and status."),
            labels: [("route", route), ("status", String(status))], buckets: Self.buckets
        ).record(duration)
    }

    /// Records a stored batch.
    func stored(_ events: Int, at date: Date) {
        batchesAccepted.increment()
        if events > 0 { eventsStored.increment(by: Int64(events)) }
        minutes.add(events, at: date)
    }

    /// Records a refusal.
    func refused(_ reason: HubRefusal) {
        refusals[reason]?.increment()
        refusedTotals.withLock { $0[reason, default: 0] += 1 }
    }

    /// The batches refused so far, by reason.
    func refusedCounts() -> [(HubRefusal, Int64)] {
        let totals = refusedTotals.withLock { $0 }
        return HubRefusal.allCases.map { ($0, totals[$0] ?? 0) }
    }

    /// The text for `GET /metrics`: this instance's counters, then each kiosk's lag from `kiosks`.
    func exposition(kiosks: [HubKiosk], admission: (working: Int, waiting: Int), now: Date) -> String {
        working.set(Int64(admission.working))
        waiting.set(Int64(admission.waiting))
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "jiayuan_hub", metricName: "events_per_minute", unitName: "",
                helpText: "Events stored by this instance in the last whole minute.")
        ).set(minutes.last(1, before: now).first ?? 0)
        let lastUpload = MetricNameDescriptor(
            namespace: "jiayuan_hub", subsystem: "kiosk", metricName: "last_upload", unitName: "timestamp_seconds",
            helpText: "When the hub last stored events of the kiosk (Unix time; absent: never).")
        let backlog = MetricNameDescriptor(
            namespace: "jiayuan_hub", subsystem: "kiosk", metricName: "backlog", unitName: "events",
            helpText: "Events the kiosk said it still had to send, with its last batch (absent: never said).")
        let seq = MetricNameDescriptor(
            namespace: "jiayuan_hub", subsystem: "kiosk", metricName: "last_seq", unitName: "",
            helpText: "The newest seq of the kiosk's log the hub holds.")
        for k in kiosks {
            let labels = [("kiosk", k.id), ("centre", k.centre)]
            registry.makeGauge(descriptor: seq, labels: labels).set(k.lastSeq)
            if let at = k.lastUploadAt { registry.makeGauge(descriptor: lastUpload, labels: labels).set(at.timeIntervalSince1970) }
            if let n = k.reportedBacklog { registry.makeGauge(descriptor: backlog, labels: labels).set(n) }
        }
        return registry.emitToString()
    }
}

/// The dashboard's operations part: each kiosk's lag, events per minute, refused batches.
enum HubLagView {
    /// A kiosk that has not uploaded for longer than this is flagged.
    static let quiet: TimeInterval = 3600

    /// The kiosks' table rows: last upload, its age, the backlog the kiosk reported, a warning when quiet.
    static func kioskRows(_ kiosks: [HubKiosk], now: Date) -> String {
        var rows = ""
        for k in kiosks {
            let last = k.lastUploadAt.map(ISOTime.format) ?? "—"
            let age = k.lastUploadAt.map { ago(now.timeIntervalSince($0)) } ?? "—"
            let backlog = k.reportedBacklog.map(String.init) ?? "—"
            let stale = k.lastUploadAt.map { now.timeIntervalSince($0) > quiet } ?? true
            let warning = stale ? "<td class=\"warn\">⚠ 超过1小时未上传 No upload for over an hour</td>" : "<td>正常 OK</td>"
            rows +=
                "<tr><td>\(HTML.escape(k.id))</td><td>\(HTML.escape(k.centre))</td><td class=\"n\">\(k.lastSeq)</td><td>\(last)</td>"
                + "<td class=\"n\">\(age)</td><td class=\"n\">\(backlog)</td>\(warning)</tr>\n"
        }
        return rows
    }

    /// The table's head, matching ``kioskRows(_:now:)``.
    static let kioskHead =
        "<th>终端 Kiosk</th><th>中心 Centre</th><th>已收到 Last seq</th><th>最近上传 Last upload (UTC)</th><th>距今 Ago</th>"
        + "<th>待传 Backlog</th><th>状态 State</th>"

    static func ago(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        if s < 120 { return "\(s) s" }
        if s < 7200 { return "\(s / 60) min" }
        if s < 172_800 { return "\(s / 3600) h" }
        return "\(s / 86400) d"
    }

    /// Events per minute over the last 15 minutes and the batches refused since this instance started.
    static func section(metrics: HubMetrics, now: Date) -> String {
        let perMinute = metrics.minutes.last(15, before: now)
        var out = "<h2>运行 Operations <small>(本实例 this instance)</small></h2>\n<table><thead><tr><th>每分钟存入 Events per minute</th>"
        out += perMinute.indices.map { "<th>−\(perMinute.count - $0) min</th>" }.joined() + "</tr></thead><tbody><tr><td></td>"
        out += perMinute.map { "<td class=\"n\">\($0)</td>" }.joined() + "</tr></tbody></table>\n"
        out += "<table><thead><tr><th>拒收批次 Refused batches</th><th>次数 Count</th></tr></thead><tbody>\n"
        for (reason, n) in metrics.refusedCounts() {
            out += "<tr><td>\(reason.rawValue)</td><td class=\"n\">\(n)</td></tr>\n"
        }
        out += "</tbody></table>\n<p>Prometheus: <code>/metrics</code></p>\n"
        return out
    }
}

/// A value behind a lock.
final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T { lock.withLock { body(&value) } }
}
