#!/usr/bin/env python3
"""End-to-end test of the resident screen in headless Chromium against a running `jiayuan serve`.

Run by Tests/JiayuanWebTests/ScreenBrowserTests.swift (through kiosk/test.sh, which makes a venv with
selenium, axe-selenium-python and, for a current axe-core, axe-playwright-python's axe.min.js). By hand:

    python screen_e2e.py --url http://127.0.0.1:PORT --fifo DATA/scan.fifo --code 'JY1:…' --out /tmp/shots \
        [--expect-venues gym,library,veterans]

The server must use an unbound FIFO scanner, and the member must be allowed into at least two venues now
(so the scan shows the choose screen). Steps: idle screen with live occupancy (axe audit, screenshot);
the language button puts English first (screenshot idle-en.png) and back; the code is written into the
FIFO; the choose screen shows one button per allowed venue (axe, screenshot); a tap on the first one; the
result screen says accepted with the member's masked name (axe, screenshot); the screen goes back to idle
by itself and the chosen venue has one more person inside. Exit 0 on success, 1 with a reason otherwise.
"""
import argparse
import errno
import json
import os
import re
import sys
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

try:
    from axe_selenium_python import Axe
except ImportError:  # pragma: no cover - reported as a clear failure below
    Axe = None

from axe_script import newest_axe_script


class Failure(Exception):
    """A check that did not hold; the message is the reason printed for the test log."""


def log(*parts):
    print("[screen_e2e %6.2fs]" % (time.monotonic() - T0), *parts, flush=True)


T0 = time.monotonic()


# ---- Browser ---------------------------------------------------------------------------------------

def start_browser(args):
    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    w, h = args.width, args.height
    for a in ("--headless=new", "--no-sandbox", f"--window-size={w},{h}",
              "--autoplay-policy=no-user-gesture-required", "--disable-gpu", "--hide-scrollbars",
              "--force-device-scale-factor=1", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-extensions", "--lang=zh-CN"):
        options.add_argument(a)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(20)
    # Make the viewport (not the window) exactly w×h, so the screenshots show the kiosk's 1920×1080.
    iw, ih = driver.execute_script("return [innerWidth, innerHeight]")
    if (iw, ih) != (w, h):
        driver.set_window_size(w + (w - iw), h + (h - ih))
    return driver


def visible_screen(d):
    return d.execute_script(
        "const s = [...document.querySelectorAll('main > section.screen')].filter(s => !s.hidden);"
        "return s.length === 1 ? s[0].id.replace(/^s-/, '') : s.map(x => x.id).join(',') || null;")


def wait_for(d, what, predicate, timeout):
    """Polls predicate(d) until it returns something truthy; fails with `what` and the screen shown."""
    try:
        return WebDriverWait(d, timeout, poll_frequency=0.1, ignored_exceptions=(WebDriverException,)).until(predicate)
    except TimeoutException:
        raise Failure(f"timed out after {timeout:g} s waiting for {what} (screen shown: {safe_screen(d)})")


def safe_screen(d):
    try:
        return visible_screen(d)
    except WebDriverException:
        return "?"


def settle(d):
    """Waits for fonts and the 200 ms screen fade to finish, so screenshots and axe see the final page."""
    d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "document.fonts.ready.then(() => Promise.all(document.getAnimations().map(a => a.finished.catch(() => null))))"
        ".then(() => requestAnimationFrame(() => requestAnimationFrame(() => done(true))));")


def screenshot(d, out, name):
    settle(d)
    path = os.path.join(out, name)
    if not d.save_screenshot(path):
        raise Failure(f"could not save the screenshot {path}")
    log("screenshot", path)


def text_of(d, css):
    return d.execute_script("const n = document.querySelector(arguments[0]); return n ? n.textContent : null;", css)


def tap(d, element):
    """A finger tap (touch pointer: down, up) in the middle of the element, as on the kiosk's touch screen."""
    finger = PointerInput(interaction.POINTER_TOUCH, "finger")
    actions = ActionBuilder(d, mouse=finger)
    actions.pointer_action.move_to(element).pointer_down().pause(0.05).pointer_up()
    actions.perform()


# ---- Accessibility -------------------------------------------------------------------------------

AXE_FINDINGS = {}
AXE_VERSIONS = set()


def audit(d, name, axe_script):
    settle(d)
    axe = Axe(d, script_url=axe_script) if axe_script else Axe(d)
    axe.inject()
    version = d.execute_script("return window.axe && axe.version")
    AXE_VERSIONS.add(str(version))
    result = axe.run()
    violations = result.get("violations", [])
    bad = [v for v in violations if v.get("impact") in ("serious", "critical")]
    summary = ", ".join(f"{v['id']} ({v.get('impact')}, {len(v.get('nodes', []))} nodes)" for v in violations) or "none"
    log(f"axe-core {version} on {name}: {len(result.get('passes', []))} rules passed; violations: {summary}")
    review = ", ".join(f"{v['id']} ({len(v.get('nodes', []))})" for v in result.get("incomplete", [])) or "none"
    log(f"  for a person to review (axe could not decide): {review}")
    for v in violations:
        log(f"  {v.get('impact')}: {v['id']}: {v.get('help')} ({v.get('helpUrl')})")
        for node in v.get("nodes", [])[:5]:
            log("    at", node.get("target"), "-", (node.get("failureSummary") or "").replace("\n", " ")[:300])
    AXE_FINDINGS[name] = [{"id": v["id"], "impact": v.get("impact"), "nodes": len(v.get("nodes", []))} for v in violations]
    if bad:
        raise Failure(f"axe found {len(bad)} serious or critical violation(s) on the {name} screen: "
                      + ", ".join(v["id"] for v in bad))


# ---- Server helpers --------------------------------------------------------------------------------

def get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode("utf-8"))


def write_fifo(path, text, timeout=10):
    """Writes the code into the FIFO the scanner reads (waits for the reader; never blocks forever)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as e:
            # ENXIO: nobody has the FIFO open for reading (yet); ENOENT: not created yet.
            if e.errno not in (errno.ENXIO, errno.ENOENT) or time.monotonic() > deadline:
                raise Failure(f"cannot write to the scanner FIFO {path}: {e}")
            time.sleep(0.1)
    try:
        data = text.encode("utf-8")
        while data:
            try:
                n = os.write(fd, data)
                data = data[n:]
            except BlockingIOError:
                time.sleep(0.01)
    finally:
        os.close(fd)


def screen_occupancy(d):
    """{venue id: (inside, capacity or None)} as the idle screen shows it (the Mandarin numbers)."""
    rows = d.execute_script(
        "return [...document.querySelectorAll('#occ li[data-venue]')].map(li => "
        "[li.dataset.venue, (li.querySelector('.count .zh') || li.querySelector('.count') || {}).textContent || '']);")
    out = {}
    for vid, text in rows:
        m = re.search(r"(\d+)\s*/\s*(\d+)", text) or re.search(r"(\d+)", text)
        if m:
            out[vid] = (int(m.group(1)), int(m.group(2)) if m.lastindex and m.lastindex > 1 else None)
    return out


# ---- The test --------------------------------------------------------------------------------------

def run(args):
    os.makedirs(args.out, exist_ok=True)
    base = args.url.rstrip("/")

    state = get_json(base + "/api/state")
    venues = [v["id"] for v in state.get("venues", [])]
    if not venues:
        raise Failure(f"/api/state lists no venues: {state}")
    if state.get("out_of_service"):
        raise Failure(f"the kiosk reports itself out of service: {state['out_of_service']}")
    log("venues:", ", ".join(venues))

    d = start_browser(args)
    try:
        d.get(base + "/")

        # (1) Idle, with live occupancy for every venue, matching the server's numbers.
        wait_for(d, "the idle screen", lambda d: visible_screen(d) == "idle", 15)
        wait_for(d, "one occupancy row per venue", lambda d: len(screen_occupancy(d)) == len(venues), 15)
        api_occ = {v["id"]: v["inside"] for v in get_json(base + "/api/occupancy")["venues"]}
        shown = screen_occupancy(d)
        for vid in venues:
            if shown[vid][0] != api_occ[vid]:
                raise Failure(f"the idle screen shows {shown[vid][0]} inside {vid}, /api/occupancy says {api_occ[vid]}")
        # Live: the screen has the event stream open (no "Reconnecting" badge) and the page is in Mandarin first.
        wait_for(d, "the event stream to connect", lambda d: d.execute_script("return document.getElementById('net').hidden"), 10)
        if "zh-first" not in d.find_element(By.TAG_NAME, "body").get_attribute("class"):
            raise Failure("the screen does not start with Mandarin first")
        log("idle screen, occupancy:", {k: v[0] for k, v in shown.items()})
        audit(d, "idle", args.axe_script)
        screenshot(d, args.out, "idle.png")

        # The language button: English first, then back to Mandarin.
        lang = d.find_element(By.ID, "lang")
        if "English" not in lang.text:
            raise Failure(f"the language button reads {lang.text!r}, expected 'English'")
        tap(d, lang)
        wait_for(d, "English first after the language button",
                 lambda d: "en-first" in d.find_element(By.TAG_NAME, "body").get_attribute("class"), 5)
        # On the idle heading the English line now comes first (above) and is the larger one.
        first = d.execute_script(
            "return [...document.querySelectorAll('#idle-h .bi > *')].map(c =>"
            " [c.className, c.getBoundingClientRect().top, parseFloat(getComputedStyle(c).fontSize)]);")
        en = [k for k in first if k[0] == "en"][0]
        zh = [k for k in first if k[0] == "zh"][0]
        if not (en[1] < zh[1] and en[2] > zh[2]):
            raise Failure(f"after the language button, English is not first and larger on the idle heading: {first}")
        if "中文" not in d.find_element(By.ID, "lang").text:
            raise Failure(f"with English first the language button reads {d.find_element(By.ID, 'lang').text!r}, expected '中文'")
        if d.execute_script("return localStorage.getItem('jiayuan.lang')") != "en":
            raise Failure("the language choice is not kept in localStorage")
        screenshot(d, args.out, "idle-en.png")
        tap(d, d.find_element(By.ID, "lang"))
        wait_for(d, "Mandarin first again", lambda d: "zh-first" in d.find_element(By.TAG_NAME, "body").get_attribute("class"), 5)
        log("language button: English first and back")

        # (2) Scan: the code goes into the FIFO; the choose screen shows one button per allowed venue.
        before = screen_occupancy(d)
        write_fifo(args.fifo, args.code + "\n")
        log("wrote the card code into", args.fifo)
        shown_now = wait_for(d, "the choose screen after the scan", lambda d: visible_screen(d) in ("choose", "result", "oos") and visible_screen(d), 15)
        if shown_now != "choose":
            raise Failure(f"the scan showed the {shown_now} screen instead of the choose screen: "
                          + " / ".join(t.strip() for t in d.execute_script(
                              "return [...document.querySelectorAll('#s-' + arguments[0] + ' h2, #s-' + arguments[0] + ' p')]"
                              ".filter(n => !n.closest('[hidden]')).map(n => n.textContent)", shown_now) if t.strip()))
        buttons = d.find_elements(By.CSS_SELECTOR, "#vbtns button.vbtn")
        ids = [b.get_attribute("data-venue") for b in buttons]
        log("choose screen:", (text_of(d, "#choose-h") or "").strip(), "buttons:", ids)
        if len(ids) < 2:
            raise Failure(f"the choose screen shows {len(ids)} venue button(s) ({ids}); the member should have at least two")
        if len(set(ids)) != len(ids):
            raise Failure(f"a venue has more than one button: {ids}")
        if args.expect_venues is not None and ids != args.expect_venues:
            raise Failure(f"venue buttons {ids}, expected {args.expect_venues}")
        for b in buttons:
            if b.size["height"] < 64:
                raise Failure(f"the {b.get_attribute('data-venue')} button is {b.size['height']} px tall (at least 64)")
        greeting = d.find_element(By.ID, "choose-h").text
        name_match = re.search(r"Hello, (\S+)", greeting)
        if not name_match or "*" not in name_match.group(1):
            raise Failure(f"the choose screen greeting {greeting!r} does not carry a masked name")
        masked = name_match.group(1)
        if d.execute_script("return document.activeElement && document.activeElement.id") != "choose-h":
            raise Failure("the choose screen's heading did not take focus")
        audit(d, "choose", args.axe_script)
        screenshot(d, args.out, "choose.png")

        # (3) Tap the first venue: the result screen says accepted, with the masked name.
        chosen = ids[0]
        tap(d, buttons[0])
        log("tapped", chosen)
        wait_for(d, "the result screen after the tap", lambda d: visible_screen(d) == "result", 15)
        cls = d.find_element(By.ID, "s-result").get_attribute("class")
        title = d.find_element(By.ID, "result-h").text
        message = d.find_element(By.ID, "result-msg").text
        log("result:", cls, "|", title.replace("\n", " / "), "|", message.replace("\n", " / "))
        if "ok" not in cls.split() or "欢迎" not in title or "Welcome" not in title:
            raise Failure(f"the result is not an accepted check-in: class {cls!r}, title {title!r}, message {message!r}")
        if masked not in message:
            raise Failure(f"the result message {message!r} does not name the member ({masked})")
        occ_line = d.find_element(By.ID, "result-occ")
        if occ_line.is_displayed():
            m = re.search(r"(\d+)\s*/\s*(\d+)", occ_line.text)
            if not m or int(m.group(1)) != before[chosen][0] + 1:
                raise Failure(f"the result says {occ_line.text!r}; expected {before[chosen][0] + 1} inside {chosen}")
        audit(d, "result", args.axe_script)
        screenshot(d, args.out, "result.png")

        # (4) Back to idle by itself (10 s, longer while the voice speaks); the chosen venue has one more inside.
        wait_for(d, "the idle screen to come back after the result", lambda d: visible_screen(d) == "idle", args.result_timeout)
        want = before[chosen][0] + 1
        wait_for(d, f"{want} inside {chosen} on the idle screen", lambda d: screen_occupancy(d).get(chosen, (None,))[0] == want, 5)
        after = screen_occupancy(d)
        for vid in venues:
            if vid != chosen and after[vid][0] != before[vid][0]:
                raise Failure(f"occupancy of {vid} changed from {before[vid][0]} to {after[vid][0]}, but {chosen} was chosen")
        log(f"idle again; {chosen}: {before[chosen][0]} -> {after[chosen][0]}")

        errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        for e in errors:
            log("browser console:", e.get("message"))
        scripts = [e for e in errors if "Uncaught" in e.get("message", "")]
        if scripts:
            raise Failure(f"the page threw {len(scripts)} uncaught JavaScript error(s): {scripts[0].get('message')}")
    except Failure:
        try:
            screenshot(d, args.out, "failure.png")
        except Exception:
            pass
        raise
    finally:
        d.quit()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="the screen, e.g. http://127.0.0.1:8080")
    p.add_argument("--fifo", required=True, help="the FIFO the server's unbound scanner reads")
    p.add_argument("--code", required=True, help="a card code of a member allowed in two or more venues now")
    p.add_argument("--out", required=True, help="directory for the screenshots")
    p.add_argument("--expect-venues", type=lambda s: [x for x in s.split(",") if x], default=None,
                   help="comma-separated venue ids the choose screen must offer, in order")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--height", type=int, default=1080)
    p.add_argument("--axe-script", default=newest_axe_script(),
                   help="another axe.min.js (default: axe-playwright-python's when installed, else axe-selenium-python's)")
    p.add_argument("--result-timeout", type=float, default=40, help="seconds for the result screen to go back to idle")
    args = p.parse_args()
    if Axe is None:
        print("screen_e2e: FAILED: axe-selenium-python is not installed in this Python", flush=True)
        return 1
    log("axe script:", args.axe_script or "axe-selenium-python's own")
    try:
        run(args)
    except Failure as e:
        print(f"screen_e2e: FAILED: {e}", flush=True)
        return 1
    except Exception as e:  # the browser or the server broke in an unexpected way
        traceback.print_exc()
        print(f"screen_e2e: FAILED: {type(e).__name__}: {e}", flush=True)
        return 1
    print("screen_e2e: axe-core", ", ".join(sorted(AXE_VERSIONS)), "findings:", json.dumps(AXE_FINDINGS), flush=True)
    print("screen_e2e: PASSED in %.1f s" % (time.monotonic() - T0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
