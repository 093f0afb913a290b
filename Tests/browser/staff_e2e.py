#!/usr/bin/env python3
"""The staff console in headless Chromium, by keyboard alone, against a running `jiayuan serve`.

Run by Tests/JiayuanWebTests/StaffBrowserTests.swift (through kiosk/test.sh). By hand:

    JIAYUAN_E2E_PIN=246810 JIAYUAN_E2E_CARD="$(jiayuan card show M000001 --data D)" python staff_e2e.py \
        --url http://127.0.0.1:CONSOLE --door http://127.0.0.1:DOOR --name 前台 --scan-member M000001 --out /tmp/shots

(The PIN and the card code come from the environment, not the command line.)

Every step is done the way a desk worker without a mouse does it: Tab, Shift+Tab, Enter, Space, arrow keys
and typing into whatever has focus (selenium ActionChains; never element.click()). The card code is typed
into the page as a scanner types it (characters then Enter) while nothing editable has focus.

Steps: log in (the page opens in the name box; Shift+Tab from it reaches the skip link); scan a member's card (JY1:… from JIAYUAN_E2E_CARD) and land on the
member page; print that card; search members; register an elder and issue the elder's card (printed);
on the floor check the elder into the day care (venue chosen with the arrow keys), watch the floor update
by itself when a resident checks in at the kiosk, check the elder out (a fee) and mark it paid with Space;
print a queue ticket; figures, and the day's CSV downloaded with Enter and read back; the audit log; log
out. On every page: axe-core finds no violation of any impact, there is no horizontal scroll at 1366×768
or 1920×1080, and every element Tab reaches shows a focus ring. A screenshot of every page from the top
at 1366×768 goes to --out. Prints `MEMBER=M…` and `staff_e2e: PASSED`; exit 1 with a reason.
"""
import argparse
import glob
import json
import os
import re
import sys
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

try:
    from axe_selenium_python import Axe
except ImportError:  # pragma: no cover
    Axe = None

from axe_script import newest_axe_script

T0 = time.monotonic()
SIZES = [(1920, 1080), (1366, 768)]  # the last one is the size the walk (and the screenshots) use
AUDITED = []
AXE_VERSIONS = set()


class Failure(Exception):
    pass


def log(*parts):
    print("[staff_e2e %6.2fs]" % (time.monotonic() - T0), *parts, flush=True)


def expect(cond, why):
    if not cond:
        raise Failure(why)


def start_browser(args, downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--lang=zh-CN", "--hide-scrollbars", "--window-size=1366,768"):
        options.add_argument(a)
    options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
    d = webdriver.Chrome(service=Service(args.chromedriver), options=options)
    d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    return d


def viewport(d, width, height):
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


# ---- The keyboard --------------------------------------------------------------------------------------

def keys(d, *sequence):
    """Types into whatever has focus, as a keyboard does."""
    ActionChains(d).send_keys(*sequence).perform()


def shift_tab(d):
    ActionChains(d).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()


def describe_focus(d):
    return d.execute_script(
        "const e = document.activeElement; if (!e) return 'nothing';"
        "return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? '[name=' + e.name + ']' : '')"
        " + ' ' + (e.getAttribute('href') || '') + ' ' + (e.textContent || e.value || '').trim().slice(0, 40);")


FOCUS_RING = """
const e = document.activeElement;
if (!e || e === document.body) return 'nothing has focus';
const s = getComputedStyle(e);
const width = parseFloat(s.outlineWidth) || 0;
if (s.outlineStyle === 'none' || width < 3) return 'no focus ring (outline ' + s.outlineStyle + ' ' + s.outlineWidth + ')';
const r = e.getBoundingClientRect();
if (r.width < 1 || r.height < 1) return 'focused element is invisible';
if (r.bottom < 0 || r.top > innerHeight) return 'focused element is off screen (top ' + r.top + ')';
return '';
"""


def tab_to(d, selector, why, backwards=False, limit=150):
    """Presses Tab (or Shift+Tab) until the focused element matches the CSS `selector` or the JS predicate
    `selector` (a function body over `e`). Every element passed on the way must show a focus ring."""
    test = selector if selector.startswith("js:") else None
    wraps = 0
    for _ in range(limit):
        if backwards:
            shift_tab(d)
        else:
            keys(d, Keys.TAB)
        if d.execute_script("return document.activeElement === document.body || document.activeElement === null"):
            # Past the last element focus leaves the page (the browser's own controls); the next Tab
            # starts again at the top. Once is the wrap; twice means nothing on the page took focus.
            wraps += 1
            expect(wraps < 2, f"Tab went round the page without reaching {why}")
            continue
        problem = d.execute_script(FOCUS_RING)
        expect(not problem, f"while tabbing to {why}: {problem} on {describe_focus(d)}")
        if test:
            hit = d.execute_script("const e = document.activeElement; return !!(function (e) {" + test[3:] + "})(e);")
        else:
            hit = d.execute_script("return !!(document.activeElement && document.activeElement.matches(arguments[0]));", selector)
        if hit:
            return
    raise Failure(f"Tab never reached {why} ({selector}); focus is on {describe_focus(d)}")


def focused_is(d, selector):
    return d.execute_script("return !!(document.activeElement && document.activeElement.matches(arguments[0]));", selector)


def choose_with_arrows(d, value, why):
    """The focused <select>: ArrowDown until it shows `value` (wrapping to the top once with Home)."""
    expect(focused_is(d, "select"), f"{why}: focus is on {describe_focus(d)}, not a list")
    keys(d, Keys.HOME)
    for _ in range(30):
        if d.execute_script("return document.activeElement.value") == value:
            return
        keys(d, Keys.ARROW_DOWN)
    raise Failure(f"{why}: the arrow keys never reached {value!r}")


def go(d, href, why):
    """Follows the persistent menu to `href` with Tab and Enter."""
    tab_to(d, f"nav a[href='{href}']", why)
    keys(d, Keys.ENTER)
    wait(d, lambda: d.current_url.rstrip("/").endswith(href) and ready(d), f"the {why} page to open")


# ---- Waiting and reading ----------------------------------------------------------------------------

def ready(d):
    return d.execute_script("return document.readyState") == "complete"


def body(d):
    try:
        return d.execute_script("return document.body ? document.body.innerText : ''") or ""
    except Exception:  # noqa: BLE001 - the page is being replaced; the next poll reads the new one
        return ""


def wait(d, cond, why, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if cond():
                return
        except Exception:  # noqa: BLE001 - the page is being replaced
            pass
        time.sleep(0.1)
    raise Failure(f"waited for {why}; at {d.current_url} the page says: {body(d)[:700]}")


def wait_text(d, text, timeout=15):
    wait(d, lambda: text in body(d) and ready(d), repr(text), timeout)


# ---- Every page --------------------------------------------------------------------------------------

def audit(d, name):
    if Axe is None:
        raise Failure("axe-selenium-python is not installed")
    script = newest_axe_script()
    axe = Axe(d, script_url=script) if script else Axe(d)
    axe.inject()
    result = axe.run()
    violations = result.get("violations", [])
    summary = "; ".join(
        f"{v['id']} ({v['impact']}, {len(v['nodes'])}: {v['nodes'][0]['target']})" for v in violations) or "none"
    version = result.get("testEngine", {}).get("version", "?")
    AXE_VERSIONS.add(str(version))
    log(f"axe {version} on {name}: {len(result.get('passes', []))} rules pass; violations: {summary}")
    review = ", ".join(f"{v['id']} ({len(v.get('nodes', []))})" for v in result.get("incomplete", [])) or "none"
    log(f"  for a person to review (axe could not decide): {review}")
    for v in result.get("incomplete", []):
        reasons = {}
        for node in v.get("nodes", []):
            why = "; ".join(c.get("message", "") for c in node.get("any", []) + node.get("all", []))
            reasons.setdefault(why, []).append(str(node.get("target")))
        for why, targets in reasons.items():
            log(f"    {v['id']}: {why} ({len(targets)}: {', '.join(targets[:3])}{', …' if len(targets) > 3 else ''})")
    AUDITED.append((name, len(violations)))
    expect(not violations, f"axe found problems on {name}: {summary}")


def no_side_scroll(d, name):
    for width, height in SIZES:
        viewport(d, width, height)
        sizes = d.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        expect(sizes[0] <= sizes[1], f"{name} scrolls sideways at {width}×{height}: scrollWidth {sizes[0]} > clientWidth {sizes[1]}")
    log(f"{name}: no horizontal scroll at 1920×1080 or 1366×768")


def shot(d, out, name):
    """A 1366×768 screenshot from the top of the page."""
    viewport(d, 1366, 768)
    d.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.2)
    os.makedirs(out, exist_ok=True)
    d.save_screenshot(os.path.join(out, f"staff-{name}.png"))


def check_page(d, out, name, screenshot=True):
    audit(d, name)
    no_side_scroll(d, name)
    if screenshot:
        shot(d, out, name)


def skip_link(d, autofocus=None):
    """From a freshly loaded page: the first Tab shows the skip link, Enter moves focus to the page. On a page
    that opens with focus in a box (`autofocus`, a CSS selector), Shift+Tab from that box reaches it instead:
    Tab would start from the box, as it does for a person (blur() keeps Chromium's starting point there)."""
    if autofocus:
        expect(focused_is(d, autofocus), f"the page opens with focus in {autofocus}, not {describe_focus(d)}")
        tab_to(d, "a.skip", "the skip link", backwards=True, limit=10)
    else:
        d.execute_script("document.activeElement && document.activeElement.blur()")
        keys(d, Keys.TAB)
    expect(focused_is(d, "a.skip"), f"the first Tab lands on the skip link, not {describe_focus(d)}")
    problem = d.execute_script(FOCUS_RING)
    expect(not problem, f"the skip link: {problem}")
    keys(d, Keys.ENTER)
    wait(d, lambda: focused_is(d, "main"), "the skip link to move focus to the page", timeout=5)


def resident_checks_in(door, code, venue):
    """A resident scanning a card at the kiosk (the resident door's API, not the console)."""
    req = urllib.request.Request(
        door + "/api/checkin", data=json.dumps({"code": code, "venue": venue}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read().decode())


# ---- The walk ----------------------------------------------------------------------------------------

def run(args):
    card = os.environ.get("JIAYUAN_E2E_CARD", "")
    pin = os.environ.get("JIAYUAN_E2E_PIN", "")
    expect(pin, "JIAYUAN_E2E_PIN holds no PIN")
    expect(card.startswith("JY1:"), "JIAYUAN_E2E_CARD holds no JY1 card code to scan")
    downloads = os.path.join(args.out, "downloads")
    os.makedirs(downloads, exist_ok=True)
    d = start_browser(args, downloads)
    d.set_page_load_timeout(20)
    try:
        viewport(d, 1366, 768)
        # Log in: the name box has focus; back to the skip link, then the name and the PIN, Enter.
        d.get(args.url + "/staff/login")
        check_page(d, args.out, "login")
        skip_link(d, autofocus="#name")
        tab_to(d, "#name", "the name box")
        keys(d, args.name, Keys.TAB)
        expect(focused_is(d, "#pin"), f"Tab from the name goes to the PIN, not {describe_focus(d)}")
        keys(d, pin, Keys.ENTER)
        wait(d, lambda: d.current_url.rstrip("/").endswith("/staff") and ready(d), "the front-desk page after log-in")
        expect(args.name in body(d), "the front-desk page names the staff member")
        check_page(d, args.out, "home", screenshot=False)
        skip_link(d)

        # A card scanner types the code and Enter while nothing editable has focus: it lands in the scan box.
        d.execute_script("document.activeElement && document.activeElement.blur()")
        keys(d, card, Keys.ENTER)
        wait(d, lambda: d.current_url.endswith("/staff/members/" + args.scan_member) and ready(d), "the scanned card to open its member")
        log("a scanned card opened", args.scan_member)
        tab_to(d, f"form[action='/staff/members/{args.scan_member}/print-card'] button", "print this card")
        keys(d, Keys.ENTER)
        wait_text(d, "The card went to the printer")
        expect(d.find_elements("css selector", ".preview img"), "the member page shows the card with its QR")
        check_page(d, args.out, "member")

        # Members: the search box has focus when the page opens.
        go(d, "/staff/members", "members")
        expect(focused_is(d, "#q"), f"the members page opens with focus in its search box, not {describe_focus(d)}")
        keys(d, "王", Keys.ENTER)
        wait(d, lambda: "q=" in d.current_url and ready(d), "search results")
        expect(d.find_elements("css selector", "tbody a[href^='/staff/members/M']"), "a search for 王 finds members")
        check_page(d, args.out, "members")

        # Register an elder: name, the group with the arrow keys, year of birth, Enter.
        go(d, "/staff/members/new", "register")
        check_page(d, args.out, "register")
        expect(focused_is(d, "#r-name"), f"the register page opens in the name box, not {describe_focus(d)}")
        keys(d, "测试长者", Keys.TAB)
        choose_with_arrows(d, "elder", "the group")
        keys(d, Keys.TAB)
        expect(focused_is(d, "#r-born"), f"Tab from the group goes to the year of birth, not {describe_focus(d)}")
        keys(d, "1950", Keys.ENTER)
        wait(d, lambda: re.search(r"/staff/members/M\d{6}$", d.current_url) and ready(d), "the new member's page")
        member = d.current_url.rsplit("/", 1)[1]
        log("registered", member)
        tab_to(d, f"form[action='/staff/members/{member}/card'] button", "issue the first card")
        keys(d, Keys.ENTER)
        wait_text(d, "New card 1 issued")
        check_page(d, args.out, "member-new", screenshot=False)
        print(f"MEMBER={member}", flush=True)

        # The floor: venue with the arrow keys, Shift+Tab back to the member box, type the id, Enter.
        go(d, "/staff/floor", "floor")
        expect(focused_is(d, "#member"), f"the floor opens in the member box, not {describe_focus(d)}")
        keys(d, Keys.TAB)
        choose_with_arrows(d, "daycare", "the venue")
        shift_tab(d)
        expect(focused_is(d, "#member"), f"Shift+Tab from the venue goes back to the member box, not {describe_focus(d)}")
        keys(d, member, Keys.ENTER)
        wait(d, lambda: ("Welcome" in body(d) or "欢迎" in body(d)) and member in body(d), "the elder checked into the day care")
        # The floor updates by itself: a resident checks in at the kiosk, the open page shows them.
        outcome = resident_checks_in(args.door, card, "library")
        expect(outcome.get("outcome") == "accepted", f"the resident's check-in at the kiosk: {outcome}")
        wait(d, lambda: d.execute_script(
            "const v = document.getElementById('venue-library'); return !!v && v.textContent.includes(arguments[0]);", args.scan_member),
            "the floor to show the resident without a reload", timeout=20)
        log("the floor updated by itself")
        # Check the elder out with the row's own button, then mark the fee paid with Space.
        tab_to(d, "js:return e.matches('button') && e.closest('tr') && e.closest('tr').textContent.includes('%s')"
               " && e.form && e.form.getAttribute('action') === '/staff/floor/checkin';" % member, "the elder's check-out button")
        keys(d, Keys.ENTER)
        wait_text(d, "fee ¥")
        log("checked out with a fee")
        tab_to(d, "form[action='/staff/floor/paid'] button", "mark paid")
        keys(d, Keys.SPACE)
        wait_text(d, "marked paid")
        check_page(d, args.out, "floor")

        # A queue ticket, printed.
        go(d, "/staff/slips", "slips")
        tab_to(d, "#q-service", "the queue ticket's service")
        keys(d, Keys.TAB)
        tab_to(d, "js:return e.matches('button[value=print]') && e.form.querySelector('input[name=kind]').value === 'queue';",
               "print the queue ticket")
        keys(d, Keys.ENTER)
        wait_text(d, "went to the printer")
        check_page(d, args.out, "slips")

        # Figures, and the CSV downloaded with Enter on its link and read back.
        go(d, "/staff/figures", "figures")
        check_page(d, args.out, "figures")
        today = d.execute_script("return document.querySelector('h1').textContent.match(/\\d{4}-\\d{2}-\\d{2}/)[0]")
        tab_to(d, "a[href^='/staff/figures.csv']", "the CSV link")
        keys(d, Keys.ENTER)
        wait(d, lambda: glob.glob(os.path.join(downloads, "*.csv")), "the CSV to download")
        path = glob.glob(os.path.join(downloads, "*.csv"))[0]
        expect(os.path.basename(path) == f"jiayuan-{today}.csv", f"the CSV is named for the day: {path}")
        raw = open(path, "rb").read()
        expect(raw.startswith(b"\xef\xbb\xbf"), "the CSV starts with a UTF-8 byte-order mark (Excel)")
        text = raw[3:].decode("utf-8")
        expect(f"{today},daycare," in text and ",visits,elder,1" in text, "the CSV holds the day care's visit: " + text[:400])
        expect("老年人日间照料中心" in text, "Chinese is intact in the CSV")
        log("CSV read back:", len(text.splitlines()), "lines")

        # The audit log names what was done.
        go(d, "/staff/audit", "audit")
        for words in ("导出统计", "发新卡", "重印会员卡", "代为签出", "排队号"):
            expect(words in body(d), f"the audit log shows {words}")
        check_page(d, args.out, "audit")

        # Back to the front desk (someone is inside now), then log out.
        go(d, "/staff", "home")
        inside = d.find_element("css selector", "a[href$='#venue-library'] .tile-count").text
        expect(inside.startswith("1"), f"the front desk counts the resident inside the library: {inside!r}")
        shot(d, args.out, "home")
        tab_to(d, "form[action='/staff/logout'] button", "log out")
        keys(d, Keys.ENTER)
        wait(d, lambda: d.current_url.endswith("/staff/login") and ready(d), "the log-in page after log-out")
        log("axe-core", ", ".join(sorted(AXE_VERSIONS)), "violations per page:", ", ".join(f"{n} {v}" for n, v in AUDITED))
        print("staff_e2e: axe-core", ", ".join(sorted(AXE_VERSIONS)), flush=True)
        print("staff_e2e: PASSED", flush=True)
    finally:
        d.quit()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True, help="the console, e.g. http://127.0.0.1:8443")
    p.add_argument("--door", required=True, help="the resident door, e.g. http://127.0.0.1:8080")
    p.add_argument("--name", required=True)
    p.add_argument("--scan-member", required=True, help="the member whose card JIAYUAN_E2E_CARD holds")
    p.add_argument("--out", required=True)
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = p.parse_args()
    try:
        run(args)
    except Failure as e:
        print(f"staff_e2e: FAILED: {e}", flush=True)
        sys.exit(1)
    except Exception:  # noqa: BLE001 - any surprise is a failure with its trace
        traceback.print_exc()
        print("staff_e2e: FAILED: unexpected error", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
