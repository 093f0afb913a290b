/* Jiayuan Kiosk — resident screen logic (plain ES2020, no modules, no libraries).
 *
 * Screens (sections in index.html, exactly one visible):
 *   idle   — "please scan your card", clock, live occupancy per venue;
 *   choose — after a scan: the member's masked name and one big button per venue they may enter;
 *            back to idle after 90 s without a touch (a visible countdown; any touch restarts it);
 *   result — colour + icon + words (+ voice or a tone) for 10 s, or until the voice has finished;
 *   oos    — out of service, over everything, while the server reports it (or the screen has lost
 *            the server for 15 s: code NET-1).
 * Everything arrives over server-sent events from /api/stream; the screen never polls.
 * The API this file expects is written down in docs/screen.md.
 */
'use strict';
(function () {
  const T = window.I18N;
  const $ = (id) => document.getElementById(id);

  // ---- Timings -----------------------------------------------------------------------------
  const CHOOSE_SECONDS = 90;   // no action for this long on the choose screen → idle (never < 60)
  const CHOOSE_WARN = 20;      // tell screen-reader users when this many seconds are left
  const RESULT_MS = 10000;     // how long a result stays (longer while its voice is still playing)
  const RESULT_MAX_MS = 30000; // ... but never longer than this
  const NET_DOWN_MS = 15000;   // stream down this long → out of service (NET-1)
  const DEDUPE_MS = 5000;      // the same decision twice within this (POST answer + broadcast) shows once
  const TONE_DELAY_MS = 400;   // wait this long for a decision's voice before falling back to a tone

  // ---- State ---------------------------------------------------------------------------------
  const S = {
    lang: 'zh',
    demo: false,
    tz: '',           // the kiosk's time zone from /api/state (the clock shows the kiosk's wall time)
    venues: [],       // [{id, name:{zh,en}, hours, open, inside, capacity}] from /api/state + events
    oos: null,        // the server's out_of_service object, or null
    netDown: false,   // the screen itself has lost the server for NET_DOWN_MS
    screen: 'idle',   // idle | choose | kids | result (oos is drawn over whichever this is)
    kids: null,       // the children event being answered on the kids screen: {token, children, ticked:Set}
    scan: null,       // the scan event being answered on the choose screen
    busy: false,      // a choice has been sent and not answered yet
    result: null,     // {key, at, voiced, shownAt} of the result on screen
    everOpen: false,  // the stream has connected at least once
  };
  let screenTimer = 0;   // result → idle
  let tickTimer = 0;     // choose countdown, once a second
  let chooseLeft = 0;
  let downTimer = 0;
  let stateRetry = 0;
  let toneTimer = 0;

  const sounds = {
    ok: new Audio('/assets/sounds/chime.wav'),
    bad: new Audio('/assets/sounds/denied.wav'),
    voice: new Audio(),
  };
  sounds.ok.preload = sounds.bad.preload = 'auto';

  // ---- Bilingual text helpers --------------------------------------------------------------
  // An "entry" is {zh, en} (from i18n.js or from the server) or a plain string (same in both).
  function pick(v, lang) {
    if (v && typeof v === 'object') return v[lang] ?? v.zh ?? v.en ?? '';
    return v == null ? '' : String(v);
  }
  // Fills {key} placeholders; a value may itself be an entry ({zh, en}).
  function fmt(s, vars, lang) {
    return String(s ?? '').replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? pick(vars[k], lang) : m));
  }
  function el(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }
  // <span class="bi"><span class="zh">…</span><span class="en" lang="en">…</span></span>
  function bi(entry, vars, cls) {
    const box = el('span', 'bi' + (cls ? ' ' + cls : ''));
    const en = el('span', 'en', fmt(pick(entry, 'en'), vars, 'en'));
    en.lang = 'en';
    box.append(el('span', 'zh', fmt(pick(entry, 'zh'), vars, 'zh')), en);
    return box;
  }
  function setBi(node, entry, vars) { node.replaceChildren(bi(entry, vars)); }
  // An entry with its placeholders filled in, still {zh, en}.
  function tr(entry, vars) { return { zh: fmt(pick(entry, 'zh'), vars, 'zh'), en: fmt(pick(entry, 'en'), vars, 'en') }; }
  // One line with both languages, for <title> and similar plain-text places.
  function plain(entry, vars) { return fmt(pick(entry, 'zh'), vars, 'zh') + ' ' + fmt(pick(entry, 'en'), vars, 'en'); }

  // Screen-reader announcement through the live region (cleared first so repeats are read too).
  function announce(...entries) {
    const live = $('live');
    live.replaceChildren();
    setTimeout(() => {
      live.replaceChildren(...entries.filter(Boolean).map((e) => {
        const p = el('span', null, pick(e, 'zh') + '。');
        const q = el('span', null, pick(e, 'en') + '. ');
        q.lang = 'en';
        return [p, q];
      }).flat());
    }, 120);
  }

  function fillStatic() {
    document.querySelectorAll('[data-i18n]').forEach((n) => setBi(n, T[n.dataset.i18n]));
    document.querySelectorAll('[data-i18n-text]').forEach((n) => { n.textContent = plain(T[n.dataset.i18nText]); });
  }

  // ---- Language: which one is large and first (both are always shown) ----------------------
  function setLang(lang) {
    S.lang = lang === 'en' ? 'en' : 'zh';
    document.body.classList.toggle('en-first', S.lang === 'en');
    document.body.classList.toggle('zh-first', S.lang === 'zh');
    try { localStorage.setItem('jiayuan.lang', S.lang); } catch (e) { /* private mode: fine */ }
    // The button names the other language in that language: "English" / "中文".
    const label = S.lang === 'zh' ? el('span', null, T.langToEn.en) : el('span', null, T.langToZh.zh);
    if (S.lang === 'zh') label.lang = 'en';
    $('lang').replaceChildren(label);
  }

  // ---- Clock ---------------------------------------------------------------------------------
  let lastMinute = '';
  // The kiosk's wall clock (its configured time zone, e.g. Asia/Shanghai), whatever the browser's zone is.
  function wallClock(d) {
    try {
      const parts = {};
      const f = new Intl.DateTimeFormat('en-US', {
        timeZone: S.tz || undefined, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
        hour: '2-digit', minute: '2-digit', weekday: 'short',
      });
      for (const p of f.formatToParts(d)) parts[p.type] = p.value;
      const w = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday);
      return { h: +parts.hour % 24, min: +parts.minute, mon: +parts.month - 1, day: +parts.day, w: w < 0 ? d.getDay() : w };
    } catch (e) {
      return { h: d.getHours(), min: d.getMinutes(), mon: d.getMonth(), day: d.getDate(), w: d.getDay() };
    }
  }

  function tickClock() {
    const c = wallClock(new Date());
    const hm = String(c.h).padStart(2, '0') + ':' + String(c.min).padStart(2, '0');
    if (hm === lastMinute) return;
    lastMinute = hm;
    $('clock-time').textContent = hm;
    setBi($('clock-date'), {
      zh: fmt(T.dateZh, { m: c.mon + 1, d: c.day, w: T.weekdays.zh[c.w] }, 'zh'),
      en: fmt(T.dateEn, { w: T.weekdays.en[c.w], d: c.day, mon: T.months[c.mon] }, 'en'),
    });
  }

  // ---- Venues and occupancy ------------------------------------------------------------------
  function venueById(id) { return S.venues.find((v) => v.id === id); }
  function venueName(id) { const v = venueById(id); return (v && v.name) || { zh: id, en: id }; }
  function venueStatus(v) {
    if (v.open === false) return 'closed';
    if (v.capacity > 0 && v.inside >= v.capacity) return 'full';
    return 'open';
  }
  function peopleText(v, entry) {
    return v.capacity > 0 ? bi(entry || T.people, { n: v.inside ?? 0, c: v.capacity }) : bi(T.peopleOnly, { n: v.inside ?? 0 });
  }

  // Merges venue facts from /api/state (replace=true) or an occupancy/decision event.
  function mergeVenues(list, replace) {
    if (replace) S.venues = list.map((v) => Object.assign({}, v));
    else {
      for (const u of list) {
        const v = venueById(u.id);
        if (v) Object.assign(v, u);
        else S.venues.push(Object.assign({}, u));
      }
    }
    renderOccupancy();
  }

  function renderOccupancy() {
    const ul = $('occ');
    if (!S.venues.length) {
      const li = el('li', 'empty');
      li.append(bi(T.loading));
      ul.replaceChildren(li);
      return;
    }
    ul.replaceChildren(...S.venues.map((v) => {
      const st = venueStatus(v);
      const li = el('li', st);
      li.dataset.venue = v.id;
      const name = el('div');
      const h3 = el('h3');
      h3.append(bi(v.name || { zh: v.id, en: v.id }));
      name.append(h3);
      const count = el('p', 'count');
      count.append(peopleText(v));
      const side = el('div', 'side');
      const pill = el('p', 'pill ' + st);
      pill.append(bi(T[st], null, 'row'));
      side.append(pill);
      if (v.hours) {
        // One line: the words "开放时间 / Hours" in both languages, then the hours themselves.
        const hours = el('p', 'hours');
        hours.append(bi(T.hours, null, 'row'), el('span', null, v.hours));
        side.append(hours);
      }
      // The bar repeats the numbers above in picture form; it is hidden from screen readers.
      const bar = el('div', 'bar');
      bar.setAttribute('aria-hidden', 'true');
      const fill = el('span');
      const pct = v.capacity > 0 ? Math.min(100, Math.round((100 * (v.inside || 0)) / v.capacity)) : 0;
      fill.style.width = pct + '%';
      bar.append(fill);
      li.append(name, count, side, bar);
      return li;
    }));
  }

  // ---- Screens ---------------------------------------------------------------------------------
  function currentOos() {
    if (S.oos) return S.oos;
    return S.netDown ? { code: T.netDownCode } : null;
  }

  // Shows the one section that should be visible now; out of service wins over everything.
  function render() {
    const oos = currentOos();
    const name = oos ? 'oos' : S.screen;
    for (const s of ['idle', 'choose', 'kids', 'result', 'oos']) $('s-' + s).hidden = s !== name;
    if (oos) {
      $('oos-code').textContent = oos.code || '—';
      const m = $('oos-msg');
      m.hidden = !(oos.zh || oos.en);
      if (!m.hidden) setBi(m, oos);
    }
  }

  function stopTimers() {
    clearTimeout(screenTimer);
    clearInterval(tickTimer);
    clearTimeout(toneTimer);
    screenTimer = tickTimer = toneTimer = 0;
  }

  function go(screen) {
    stopTimers();
    S.screen = screen;
    if (screen !== 'choose') { S.scan = null; S.busy = false; }
    if (screen !== 'kids') S.kids = null;
    if (screen !== 'result') S.result = null;
    render();
  }

  function goIdle(say) {
    stopSounds();
    go('idle');
    if (say) announce(T.backToStart);
  }

  function focusHeading(id) {
    const h = $(id);
    if (h) h.focus({ preventScroll: true });
  }

  // Out of service, as the server reports it ({code, zh, en}) or null when it is over.
  function setService(oos) {
    const was = !!currentOos();
    S.oos = oos && typeof oos === 'object' ? oos : null;
    if (S.oos) { stopSounds(); go('idle'); } else render();
    if (!was && currentOos()) announce(T.oosTitle, T.oosHelp);
  }

  // ---- (2) Choose --------------------------------------------------------------------------------
  // Policy: venues the member may enter get a big button; venues closed or full *now* are listed in
  // words under them (the member may have come for one and should learn why it is missing); venues the
  // member can never enter (not_eligible) are left out, they would only be noise.
  function onScan(d) {
    if (currentOos() || !d || !d.member) return;
    stopSounds();
    S.scan = d;
    S.busy = false;
    const allowed = [];
    const unavailable = [];
    for (const v of d.venues || []) {
      const base = venueById(v.id) || {};
      const venue = Object.assign({}, base, v, { name: v.name || base.name || { zh: v.id, en: v.id } });
      if (v.allowed) allowed.push(venue);
      else if (v.reason !== 'not_eligible') unavailable.push(venue);
    }
    if (d.bound_venue) allowed.sort((a, b) => (b.id === d.bound_venue) - (a.id === d.bound_venue));

    setBi($('choose-h'), T.hello, { name: d.member.display_name || '' });
    const box = $('vbtns');
    box.dataset.n = String(Math.min(allowed.length, 6));   // the CSS picks the columns from this
    if (allowed.length) {
      box.replaceChildren(...allowed.map(venueButton));
    } else {
      const p = el('p', 'none-allowed');
      p.append(bi(T.noneAllowed));
      box.replaceChildren(p);
    }
    $('choose-p').hidden = !allowed.length;
    $('unavail-list').replaceChildren(...unavailable.map(unavailableItem));
    $('unavail').hidden = !unavailable.length;

    go('choose');
    startCountdown();
    focusHeading('choose-h');
    announce(tr(T.hello, { name: d.member.display_name || '' }), allowed.length ? T.choose : T.noneAllowed);
    if (d.voice) playVoice(d.voice);
  }

  // "暑期课业辅导：现在不开放（08:00–17:30）" with the English under it; the venue name in bold.
  function unavailableItem(v) {
    const why = T.reasons[v.reason] || T.reasons.other;
    const hours = v.reason === 'closed' && v.hours ? v.hours : '';
    const li = el('li');
    const box = el('span', 'bi');
    for (const lang of ['zh', 'en']) {
      const line = el('span', lang);
      if (lang === 'en') line.lang = 'en';
      line.append(el('strong', null, pick(v.name, lang)),
        (lang === 'zh' ? '：' : ': ') + why[lang] + (hours ? (lang === 'zh' ? '（' + hours + '）' : ' (' + hours + ')') : ''));
      box.append(line);
    }
    li.append(box);
    return li;
  }

  // One big button: an arrow icon, the venue name in both languages, how full it is.
  function venueButton(v) {
    const b = el('button', 'btn primary vbtn');
    b.type = 'button';
    b.dataset.venue = v.id;
    b.insertAdjacentHTML('afterbegin', v.direction === 'out'
      ? '<svg viewBox="0 0 64 64" aria-hidden="true" focusable="false"><path d="M26 10H12v44h14M34 20l12 12-12 12M46 32H22" fill="none" stroke="currentColor" stroke-width="6" stroke-linecap="round" stroke-linejoin="round"/></svg>'
      : '<svg viewBox="0 0 64 64" aria-hidden="true" focusable="false"><path d="M38 10h14v44H38M18 20l12 12-12 12M30 32H6" fill="none" stroke="currentColor" stroke-width="6" stroke-linecap="round" stroke-linejoin="round"/></svg>');
    const text = el('span', 'vtext');
    const name = bi(v.name);
    text.append(name);
    // Under the name: a "离开 Leave" tag when this tap checks the member out, then how full it is.
    const meta = el('span', 'meta');
    if (v.direction === 'out') {
      const tag = el('span', 'dir');
      tag.append(bi(T.checkOut));
      meta.append(tag);
    }
    if (v.capacity > 0) meta.append(peopleText(v, T.inside));
    if (meta.childNodes.length) text.append(meta);
    b.append(text);
    b.addEventListener('click', () => choose(v.id));
    return b;
  }

  async function choose(venue) {
    if (S.busy || !S.scan) return;
    S.busy = true;
    $('vbtns').setAttribute('aria-busy', 'true');
    try {
      const r = await fetch('/api/choose', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: S.scan.token, venue }),
      });
      const d = await r.json().catch(() => null);
      if (d && d.outcome) showResult(d);
      else if (d && Array.isArray(d.decisions)) showHousehold(d);
      else if (d && d.choose_children) { /* the children event brings the token and the list */ }
      else if (S.screen === 'choose') showResult(localFailure(T.chooseFailed));
    } catch (e) {
      if (S.screen === 'choose') showResult(localFailure(T.chooseFailed));
    } finally {
      $('vbtns').removeAttribute('aria-busy');
      S.busy = false;
    }
  }

  function localFailure(message) {
    return { outcome: 'denied', direction: 'in', reason: null, member: null, venue: null, seq: 'local-' + Date.now(), message };
  }

  // The countdown: 90 s, restarted by any touch, click or key anywhere on the screen.
  function startCountdown() {
    clearInterval(tickTimer);
    chooseLeft = CHOOSE_SECONDS;
    drawCountdown();
    tickTimer = setInterval(() => {
      chooseLeft -= 1;
      if (chooseLeft <= 0) { goIdle(true); return; }
      if (chooseLeft === CHOOSE_WARN) announce(tr(T.countdown, { s: chooseLeft }));
      drawCountdown();
    }, 1000);
  }
  function drawCountdown() {
    setBi($('countdown'), T.countdown, { s: chooseLeft });
    setBi($('kids-countdown'), T.countdown, { s: chooseLeft });
  }
  function extendTime() {
    if ((S.screen === 'choose' || S.screen === 'kids') && !currentOos() && chooseLeft < CHOOSE_SECONDS) startCountdown();
  }

  // ---- (2b) Children: a guardian's card at a guardian-code venue -------------------------------------
  // Every child who may come in now is a big ticked toggle; children who cannot (inside already, closed,
  // full, not enrolled) are listed with the reason in words. Confirm sends the ticked ones.
  function onChildren(d) {
    if (currentOos() || !d || !d.guardian || !Array.isArray(d.children)) return;
    stopSounds();
    const offered = d.children.filter((c) => c.eligible);
    const inside = d.children.filter((c) => c.inside);
    S.kids = { token: d.token, ticked: new Set(offered.map((c) => c.id)), busy: false, code: '' };
    setBi($('kids-h'), T.hello, { name: d.guardian.display_name || '' });
    const items = d.children.map((c) => (c.eligible ? kidItem(c) : kidOff(c)));
    $('kids-list').replaceChildren(...items);
    $('kids-msg').replaceChildren();
    $('kids-p').hidden = !offered.length;
    $('kids-ok').hidden = !offered.length;
    $('kids-list').hidden = false;
    $('kids-pad').hidden = true;
    $('pad-ok').hidden = true;
    $('kids-collect').hidden = !inside.length;
    if (!offered.length && !inside.length) setBi($('kids-msg'), T.kidsNoneAllowed);
    go('kids');
    startCountdown();
    focusHeading('kids-h');
    announce(tr(T.hello, { name: d.guardian.display_name || '' }), offered.length ? T.kidsChoose : T.kidsNoneAllowed);
    if (d.voice) playVoice(d.voice);
  }

  const TICK_SVG = '<svg viewBox="0 0 64 64" aria-hidden="true" focusable="false"><rect x="4" y="4" width="56" height="56" rx="10" fill="none" stroke="currentColor" stroke-width="6"/><path class="tick" d="M16 33l11 11 21-24" fill="none" stroke="currentColor" stroke-width="7" stroke-linecap="round" stroke-linejoin="round"/></svg>';

  // One child as a toggle button: ticked (pressed) or not, the masked name, the state in words.
  function kidItem(c) {
    const li = el('li');
    const b = el('button', 'btn kid');
    b.type = 'button';
    b.dataset.child = c.id;
    b.insertAdjacentHTML('afterbegin', TICK_SVG);
    const text = el('span', 'vtext');
    text.append(el('span', 'name', c.display_name || c.id));
    const state = el('span', 'state');
    text.append(state);
    b.append(text);
    const draw = () => {
      const on = S.kids && S.kids.ticked.has(c.id);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
      state.replaceChildren(bi(on ? T.kidsTicked : T.kidsNotTicked));
    };
    b.addEventListener('click', () => {
      if (!S.kids || S.kids.busy) return;
      if (S.kids.ticked.has(c.id)) S.kids.ticked.delete(c.id); else S.kids.ticked.add(c.id);
      $('kids-msg').replaceChildren();
      draw();
    });
    draw();
    li.append(b);
    return li;
  }

  // A child who cannot come in now: the name and why, in words (no button).
  function kidOff(c) {
    const li = el('li', 'off');
    li.dataset.child = c.id;
    const why = c.inside ? T.kidsInside : (T.reasons[c.reason] || (c.message && (c.message.zh || c.message.en) ? c.message : T.reasons.other));
    li.append(el('strong', null, c.display_name || c.id), ' ', bi(why));
    return li;
  }

  // ---- Collecting children: the guardian types the pickup code on the pad ----------------------------
  const CODE_KEYS = 'ACDEFGHJKMNPQRTUVWXY34679';

  function buildPad() {
    const keys = CODE_KEYS.split('').map((k) => {
      const b = el('button', 'btn key', k);
      b.type = 'button';
      b.dataset.key = k;
      b.addEventListener('click', () => padKey(k));
      return b;
    });
    const del = el('button', 'btn del');
    del.type = 'button';
    del.append(bi(T.padDelete));
    del.addEventListener('click', () => padKey(null));
    $('pad-keys').replaceChildren(...keys, del);
  }

  function showPad() {
    if (!S.kids) return;
    S.kids.code = '';
    $('kids-list').hidden = true;
    $('kids-p').hidden = true;
    $('kids-ok').hidden = true;
    $('kids-collect').hidden = true;
    $('kids-pad').hidden = false;
    $('pad-ok').hidden = false;
    $('kids-msg').replaceChildren();
    drawPad();
    focusHeading('pad-h');
    announce(T.padTitle);
  }

  // A key of the pad: a character added (at most 8), or the last one deleted (null).
  function padKey(k) {
    if (!S.kids || S.kids.busy) return;
    S.kids.code = k ? (S.kids.code + k).slice(0, 8) : S.kids.code.slice(0, -1);
    $('kids-msg').replaceChildren();
    drawPad();
  }
  function drawPad() { $('pad-code').textContent = (S.kids && S.kids.code) || ''; }

  async function collectKids() {
    if (!S.kids || S.kids.busy) return;
    if (!S.kids.code) { setBi($('kids-msg'), T.padEmpty); announce(T.padEmpty); return; }
    S.kids.busy = true;
    try {
      const r = await fetch('/api/pickup', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: S.kids.token, code: S.kids.code }),
      });
      const d = await r.json().catch(() => null);
      if (d && Array.isArray(d.decisions)) showHousehold(d);
      else if (r.status === 429) { /* the invalid event (pickup_locked) tells the guardian to ask staff */ }
      else if (S.screen === 'kids') showResult(localFailure(T.chooseFailed));
    } catch (e) {
      if (S.screen === 'kids') showResult(localFailure(T.chooseFailed));
    } finally {
      if (S.kids) S.kids.busy = false;
    }
  }

  async function confirmKids() {
    if (!S.kids || S.kids.busy) return;
    const children = Array.from(S.kids.ticked);
    if (!children.length) { setBi($('kids-msg'), T.kidsNone); announce(T.kidsNone); return; }
    S.kids.busy = true;
    $('kids-list').setAttribute('aria-busy', 'true');
    try {
      const r = await fetch('/api/children', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: S.kids.token, children }),
      });
      const d = await r.json().catch(() => null);
      if (d && Array.isArray(d.decisions)) showHousehold(d);
      else if (S.screen === 'kids') showResult(localFailure(T.chooseFailed));
    } catch (e) {
      if (S.screen === 'kids') showResult(localFailure(T.chooseFailed));
    } finally {
      $('kids-list').removeAttribute('aria-busy');
      if (S.kids) S.kids.busy = false;
    }
  }

  // ---- (3) Result ----------------------------------------------------------------------------------
  function decisionKey(d) {
    return [d.seq, d.at, d.venue, d.outcome, d.direction, d.member && d.member.id].join('|');
  }

  const MARK_OK = 'M52 104 86 138 150 66';
  const MARK_NO = 'M66 66 134 134M134 66 66 134';

  function deniedTitle(reason) {
    switch (reason) {
      case 'invalid_code': return T.scanAgain;
      case 'closed': case 'full': return T.notNow;
      case 'guardian_code_required': return T.showPickup;
      case 'pickup_locked': return T.askStaff;
      default: return T.seeDesk;
    }
  }

  // The pickup code: the decision's pickup_code field if the server sends one, else the code the
  // message carries ("。接送码：K7Q" / ". Pickup code: K7Q").
  function pickupCode(d) {
    if (d.pickup_code) return String(d.pickup_code);
    const m = d.message || {};
    const hit = /接送码[：:]\s*([A-Z0-9]{3,8})/.exec(m.zh || '') || /Pickup code:\s*([A-Z0-9]{3,8})/i.exec(m.en || '');
    return hit ? hit[1] : '';
  }

  function showResult(d) {
    if (currentOos() || !d) return;
    const key = decisionKey(d);
    const now = Date.now();
    if (S.screen === 'result' && S.result && S.result.key === key && now - S.result.at < DEDUPE_MS) {
      // The same decision again (the POST answer and its broadcast): only add the voice if missing.
      if (d.voice && !S.result.voiced) { S.result.voiced = true; playVoice(d.voice); }
      return;
    }
    stopSounds();
    const ok = d.outcome === 'accepted';
    const sec = $('s-result');
    sec.classList.toggle('ok', ok);
    sec.classList.toggle('bad', !ok);
    $('result-mark').setAttribute('d', ok ? MARK_OK : MARK_NO);
    $('result-icon-t').textContent = plain(ok ? T.iconOk : T.iconNo);

    const title = ok ? (d.repeat ? T.already : d.direction === 'out' ? T.goodbye : T.welcome) : deniedTitle(d.reason);
    setBi($('result-h'), title);
    const msg = d.message && (d.message.zh || d.message.en) ? d.message : ok ? title : T.seeDesk;
    setBi($('result-msg'), msg);

    const code = ok ? pickupCode(d) : '';
    $('result-kids').hidden = true;
    $('pickup').hidden = !code;
    setBi($('pickup-label'), T.pickup);
    $('pickup-code').textContent = code;

    // "Need help? Please see the front desk" under every denial, unless the title says it already.
    const help = $('result-help');
    help.hidden = ok || title === T.seeDesk;
    if (!help.hidden) setBi(help, T.helpDesk);

    const occ = $('result-occ');
    const o = d.occupancy;
    occ.hidden = !(ok && o && d.venue && o.capacity > 0);
    if (!occ.hidden) setBi(occ, T.occNow, { venue: venueName(d.venue), n: o.inside, c: o.capacity });
    if (d.venue && o) mergeVenues([{ id: d.venue, inside: o.inside, capacity: o.capacity }], false);

    go('result');
    S.result = { key, at: now, voiced: !!d.voice, shownAt: now };
    focusHeading('result-h');
    // The pickup code is read letter by letter ("K 7 Q").
    announce(title, msg, code ? tr({ zh: T.pickup.zh + ' {c}', en: T.pickup.en + ' {c}' }, { c: code.split('').join(' ') }) : null,
      help.hidden ? null : T.helpDesk);

    if (d.voice) playVoice(d.voice);
    else toneTimer = setTimeout(() => { if (S.result && !S.result.voiced) play(ok ? sounds.ok : sounds.bad); }, TONE_DELAY_MS);
    screenTimer = setTimeout(resultDone, RESULT_MS);
  }

  // A drop-off or pick-up: one result for the household, every child listed with its own outcome, the
  // shared pickup code in the big box. A code that named no child shows as a single denial.
  function showHousehold(d) {
    if (currentOos() || !d || !Array.isArray(d.decisions) || !d.decisions.length) return;
    const moved = d.decisions.filter((x) => x.outcome === 'accepted' && !x.repeat);
    if (!moved.length && d.decisions.length === 1) {
      showResult(Object.assign({}, d.decisions[0], d.voice ? { voice: d.voice } : {}));
      return;
    }
    const key = 'household|' + d.decisions.map((x) => x.seq + ':' + (x.member && x.member.id)).join(',');
    const now = Date.now();
    if (S.screen === 'result' && S.result && S.result.key === key && now - S.result.at < DEDUPE_MS) {
      if (d.voice && !S.result.voiced) { S.result.voiced = true; playVoice(d.voice); }
      return;
    }
    stopSounds();
    const out = moved.some((x) => x.direction === 'out');
    const repeats = d.decisions.every((x) => x.repeat);
    const ok = moved.length > 0 || repeats;
    const sec = $('s-result');
    sec.classList.toggle('ok', ok);
    sec.classList.toggle('bad', !ok);
    $('result-mark').setAttribute('d', ok ? MARK_OK : MARK_NO);
    $('result-icon-t').textContent = plain(ok ? T.iconOk : T.iconNo);
    const first = d.decisions.find((x) => x.outcome === 'denied') || d.decisions[0];
    const title = moved.length ? (out ? T.goodbye : T.welcome) : repeats ? T.already : deniedTitle(first.reason);
    setBi($('result-h'), title);
    const msg = moved.length ? tr(out ? T.kidsOut : T.kidsIn, { n: moved.length }) : first.message || T.seeDesk;
    setBi($('result-msg'), msg);
    const code = !out && d.pickup_code ? String(d.pickup_code) : '';
    $('pickup').hidden = !code;
    setBi($('pickup-label'), T.pickup);
    $('pickup-code').textContent = code;
    const list = $('result-kids');
    list.replaceChildren(...d.decisions.map((x) => {
      const li = el('li', x.outcome === 'accepted' ? 'in' : 'no');
      li.dataset.child = (x.member && x.member.id) || '';
      const good = x.outcome === 'accepted';
      li.append(el('span', null, (good ? '✔ ' : '✘ ') + ((x.member && x.member.display_name) || '') + ' '),
        bi(good && !x.repeat ? (x.direction === 'out' ? T.kidsOutMark : T.kidsInMark) : x.message || T.seeDesk));
      return li;
    }));
    list.hidden = false;
    $('result-help').hidden = true;
    $('result-occ').hidden = true;
    const last = d.decisions[d.decisions.length - 1];
    if (d.venue && last.occupancy) mergeVenues([{ id: d.venue, inside: last.occupancy.inside, capacity: last.occupancy.capacity }], false);
    go('result');
    S.result = { key, at: now, voiced: !!d.voice, shownAt: now };
    focusHeading('result-h');
    announce(title, msg, code ? tr({ zh: T.pickup.zh + ' {c}', en: T.pickup.en + ' {c}' }, { c: code.split('').join(' ') }) : null,
      ...d.decisions.map((x) => tr({ zh: '{n}：{m}', en: '{n}: {m}' }, { n: (x.member && x.member.display_name) || '', m: x.message || '' })));
    if (d.voice) playVoice(d.voice);
    else toneTimer = setTimeout(() => { if (S.result && !S.result.voiced) play(ok ? sounds.ok : sounds.bad); }, TONE_DELAY_MS);
    screenTimer = setTimeout(resultDone, RESULT_MS);
  }

  // Leaves the result after RESULT_MS, or later while its voice is still being spoken.
  function resultDone() {
    if (S.screen !== 'result') return;
    const speaking = !sounds.voice.paused && !sounds.voice.ended;
    if (speaking && S.result && Date.now() - S.result.shownAt < RESULT_MAX_MS) {
      screenTimer = setTimeout(resultDone, 1000);
      return;
    }
    goIdle(false);
  }

  // ---- Sound ------------------------------------------------------------------------------------
  // Chromium in kiosk mode must be started with --autoplay-policy=no-user-gesture-required, or the
  // first sound before any touch is blocked (play() then rejects; we ignore that quietly).
  function play(a) {
    try { a.currentTime = 0; } catch (e) { /* not loaded yet */ }
    const p = a.play();
    if (p && p.catch) p.catch(() => {});
  }
  function playVoice(url) {
    // Only our own server's files: a path like /api/voice/ab12.wav.
    if (typeof url !== 'string' || !url.startsWith('/') || url.startsWith('//')) return;
    clearTimeout(toneTimer);
    sounds.ok.pause();
    sounds.bad.pause();
    sounds.voice.src = url;
    play(sounds.voice);
  }
  function stopSounds() {
    clearTimeout(toneTimer);
    for (const a of Object.values(sounds)) a.pause();
  }

  // ---- Server: state and stream -----------------------------------------------------------------
  async function loadState() {
    clearTimeout(stateRetry);
    try {
      const r = await fetch('/api/state', { cache: 'no-store' });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const st = await r.json();
      S.demo = !!st.demo;
      if (typeof st.time_zone === 'string' && st.time_zone !== S.tz) { S.tz = st.time_zone; lastMinute = ''; tickClock(); }
      $('demo').hidden = !S.demo;
      mergeVenues(Array.isArray(st.venues) ? st.venues : [], true);
      setService(st.out_of_service || null);
    } catch (e) {
      stateRetry = setTimeout(loadState, 5000);
    }
  }

  function streamDown() {
    $('net').hidden = false;
    if (!downTimer) downTimer = setTimeout(() => { S.netDown = true; setService(S.oos); }, NET_DOWN_MS);
  }
  function streamUp() {
    $('net').hidden = true;
    clearTimeout(downTimer);
    downTimer = 0;
    if (S.netDown) { S.netDown = false; render(); }
  }

  function listen(es, name, fn) {
    es.addEventListener(name, (e) => {
      let d;
      try { d = JSON.parse(e.data); } catch (err) { return; }
      fn(d);
    });
  }

  function connect() {
    const es = new EventSource('/api/stream');
    es.onopen = () => {
      streamUp();
      if (S.everOpen) loadState();   // after a reconnect: we may have missed events
      S.everOpen = true;
    };
    es.onerror = () => {
      streamDown();
      // EventSource retries by itself, unless the server answered with an error status.
      if (es.readyState === EventSource.CLOSED) { es.close(); setTimeout(connect, 3000); }
    };
    listen(es, 'scan', onScan);
    listen(es, 'decision', showResult);
    listen(es, 'children', onChildren);
    listen(es, 'household', showHousehold);
    listen(es, 'occupancy', (d) => mergeVenues((d && d.venues) || [], false));
    listen(es, 'service', (d) => setService(d ? d.out_of_service : null));
    listen(es, 'invalid', (d) => showResult({
      outcome: 'denied', direction: 'in', reason: (d && d.reason) || 'invalid_code',
      seq: 'invalid-' + Date.now(), message: d && d.message, voice: d && d.voice,
    }));
  }

  // ---- Demo scan (demo mode only): the server feeds a demo card through the scanner path -------
  let demoBusy = false;
  async function demoScan() {
    if (demoBusy) return;
    demoBusy = true;
    try {
      const r = await fetch('/api/demo/scan', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      if (!r.ok) throw new Error('HTTP ' + r.status);
    } catch (e) {
      showResult(localFailure(T.demoFailed));
    } finally {
      setTimeout(() => { demoBusy = false; }, 1000);
    }
  }

  // ---- Start -----------------------------------------------------------------------------------
  function start() {
    fillStatic();
    let lang = 'zh';
    try { lang = localStorage.getItem('jiayuan.lang') || 'zh'; } catch (e) { /* ignore */ }
    setLang(lang);
    tickClock();
    setInterval(tickClock, 1000);
    renderOccupancy();
    render();

    $('lang').addEventListener('click', () => setLang(S.lang === 'zh' ? 'en' : 'zh'));
    $('cancel').addEventListener('click', () => goIdle(true));
    $('kids-cancel').addEventListener('click', () => goIdle(true));
    $('kids-ok').addEventListener('click', confirmKids);
    $('kids-collect').addEventListener('click', showPad);
    $('pad-ok').addEventListener('click', collectKids);
    buildPad();
    $('more').addEventListener('click', extendTime);
    $('done').addEventListener('click', () => goIdle(true));
    $('demo').addEventListener('click', demoScan);
    // Any touch or key restarts the choose countdown; Escape leaves the choose and result screens.
    document.addEventListener('pointerdown', extendTime, true);
    document.addEventListener('keydown', (e) => {
      extendTime();
      if (e.key === 'Escape' && !currentOos() && S.screen !== 'idle') goIdle(true);
    }, true);

    loadState();
    connect();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
