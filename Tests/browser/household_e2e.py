#!/usr/bin/env python3
"""Household check-in on the resident screen in headless Chromium (issue 16), against a running `jiayuan serve`.

Run by Tests/JiayuanWebTests/HouseholdBrowserTests.swift in two phases (the Swift test decodes the printed
pickup slip with zbarimg in between):

    python household_e2e.py --phase dropoff --url URL --fifo DATA/scan.fifo --code 'JY1:…' \
        --untick M000203 --out /tmp/shots
    python household_e2e.py --phase pickup --url URL --fifo DATA/scan.fifo --code 'JYK:…' --expect M000201,M000202 --out /tmp/shots

dropoff: the guardian's card goes into the (unbound) FIFO scanner; the choose screen offers the children's
club; a tap shows the children, every one ticked (axe: 0 violations, screenshot kids.png); one child is
unticked and Confirm tapped; the result lists the children let in and shows the pickup code (axe: 0
violations, screenshot household.png). Prints `household_e2e: CODE <code>` and `household_e2e: IN <ids>`.
pickup: with --card, the guardian's card opens the pad, the code is typed (axe: 0 violations, screenshot
pad.png) and Cancel tapped; then the slip's text goes into the FIFO; the result says goodbye and lists the children collected
(axe: 0 violations, screenshot household-out.png). Exit 0 on success, 1 with a reason otherwise.
"""
import argparse
import sys
import traceback

from selenium.webdriver.common.by import By

import screen_e2e as se
from screen_e2e import Failure, log, tap, visible_screen, wait_for
from axe_script import newest_axe_script


def audit_clean(d, name, axe_script):
    """The screen's axe-core audit with no violation at all (any impact)."""
    se.audit(d, name, axe_script)
    if se.AXE_FINDINGS.get(name):
        raise Failure(f"axe found violations on the {name} screen: {se.AXE_FINDINGS[name]}")


def result_children(d):
    """[(member id, text)] of the household result's list."""
    return d.execute_script(
        "return [...document.querySelectorAll('#result-kids li')].map(li => [li.dataset.child, li.textContent]);")


def dropoff(d, args):
    se.write_fifo(args.fifo, args.code + "\n")
    log("wrote the guardian's card into", args.fifo)
    wait_for(d, "the choose screen after the guardian's card", lambda d: visible_screen(d) == "choose", 15)
    kids = d.find_elements(By.CSS_SELECTOR, "#vbtns button.vbtn[data-venue='kids']")
    if not kids:
        raise Failure("the choose screen offers the guardian no button for the children's club")
    tap(d, kids[0])
    wait_for(d, "the children screen", lambda d: visible_screen(d) == "kids", 15)
    toggles = d.find_elements(By.CSS_SELECTOR, "#kids-list button.kid")
    ids = [b.get_attribute("data-child") for b in toggles]
    log("children offered:", ids)
    if len(ids) < 2:
        raise Failure(f"the children screen offers {ids}; the guardian has at least two children")
    if args.untick not in ids:
        raise Failure(f"{args.untick} is not offered: {ids}")
    for b in toggles:
        if b.get_attribute("aria-pressed") != "true":
            raise Failure(f"{b.get_attribute('data-child')} is not ticked to begin with")
        if b.size["height"] < 96 or b.size["width"] < 300:
            raise Failure(f"the toggle for {b.get_attribute('data-child')} is {b.size} (large touch targets: 96 px tall)")
        if "*" not in b.text:
            raise Failure(f"the child's name is not masked: {b.text!r}")
    ok = d.find_element(By.ID, "kids-ok")
    if ok.size["height"] < 64:
        raise Failure(f"the Confirm button is {ok.size['height']} px tall")
    heading = d.find_element(By.ID, "kids-h").text
    if "*" not in heading:
        raise Failure(f"the children screen does not greet the guardian by masked name: {heading!r}")
    audit_clean(d, "kids", args.axe_script)
    se.screenshot(d, args.out, "kids.png")

    untick = [b for b in toggles if b.get_attribute("data-child") == args.untick][0]
    tap(d, untick)
    wait_for(d, f"{args.untick} unticked", lambda d: untick.get_attribute("aria-pressed") == "false", 5)
    tap(d, ok)
    wait_for(d, "the household result", lambda d: visible_screen(d) == "result" and result_children(d), 15)
    cls = d.find_element(By.ID, "s-result").get_attribute("class")
    title = d.find_element(By.ID, "result-h").text
    code = d.find_element(By.ID, "pickup-code").text.strip()
    listed = result_children(d)
    log("result:", cls, "|", title.replace("\n", " / "), "| code", code, "|", listed)
    if "ok" not in cls.split() or "欢迎" not in title:
        raise Failure(f"the drop-off is not accepted: class {cls!r}, title {title!r}")
    if not d.find_element(By.ID, "pickup").is_displayed() or len(code) != 6:
        raise Failure(f"the result shows no pickup code ({code!r})")
    listed_ids = [c for c, _ in listed]
    expected = [i for i in ids if i != args.untick]
    if listed_ids != expected or not all("✔" in t for _, t in listed):
        raise Failure(f"the result lists {listed}, expected {expected} checked in")
    audit_clean(d, "household", args.axe_script)
    se.screenshot(d, args.out, "household.png")
    print("household_e2e: CODE", code, flush=True)
    print("household_e2e: IN", ",".join(listed_ids), flush=True)


def pad(d, args):
    """The guardian's card again: the club lists the children as inside and offers the pad; the code is typed
    (axe: 0 violations, screenshot pad.png), then Cancel leaves without collecting anyone."""
    se.write_fifo(args.fifo, args.card + "\n")
    wait_for(d, "the choose screen", lambda d: visible_screen(d) == "choose", 15)
    tap(d, d.find_element(By.CSS_SELECTOR, "#vbtns button.vbtn[data-venue='kids']"))
    wait_for(d, "the children screen with the collect button",
             lambda d: visible_screen(d) == "kids" and d.find_element(By.ID, "kids-collect").is_displayed(), 15)
    inside = d.execute_script("return [...document.querySelectorAll('#kids-list li.off')].map(li => li.dataset.child)")
    if sorted(inside) != sorted(args.expect):
        raise Failure(f"the children screen lists {inside} as inside, expected {args.expect}")
    tap(d, d.find_element(By.ID, "kids-collect"))
    wait_for(d, "the pad", lambda d: d.find_element(By.ID, "kids-pad").is_displayed(), 5)
    keys = d.find_elements(By.CSS_SELECTOR, "#pad-keys button.key")
    if len(keys) != 25 or any(k.size["height"] < 96 for k in keys):
        raise Failure(f"the pad has {len(keys)} keys; each must be at least 96 px tall")
    for ch in args.pad_code:
        tap(d, d.find_element(By.CSS_SELECTOR, f"#pad-keys button[data-key='{ch}']"))
    wait_for(d, "the typed code", lambda d: d.find_element(By.ID, "pad-code").text.strip() == args.pad_code, 5)
    audit_clean(d, "pad", args.axe_script)
    se.screenshot(d, args.out, "pad.png")
    tap(d, d.find_element(By.ID, "kids-cancel"))
    wait_for(d, "the idle screen after Cancel", lambda d: visible_screen(d) == "idle", 10)


def pickup(d, args):
    if args.card:
        pad(d, args)
    se.write_fifo(args.fifo, args.code + "\n")
    log("wrote the pickup slip into", args.fifo)
    wait_for(d, "the pick-up result", lambda d: visible_screen(d) == "result" and result_children(d), 15)
    cls = d.find_element(By.ID, "s-result").get_attribute("class")
    title = d.find_element(By.ID, "result-h").text
    listed = result_children(d)
    log("result:", cls, "|", title.replace("\n", " / "), "|", listed)
    if "ok" not in cls.split() or "再见" not in title:
        raise Failure(f"the pick-up is not a goodbye: class {cls!r}, title {title!r}")
    if [c for c, _ in listed] != args.expect or not all("✔" in t and "已接走" in t for _, t in listed):
        raise Failure(f"the result lists {listed}, expected {args.expect} collected")
    if d.find_element(By.ID, "pickup").is_displayed():
        raise Failure("a pick-up shows a pickup code")
    audit_clean(d, "household-out", args.axe_script)
    se.screenshot(d, args.out, "household-out.png")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--phase", choices=("dropoff", "pickup"), required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--fifo", required=True)
    p.add_argument("--code", required=True, help="the guardian's card (dropoff) or the slip's text (pickup)")
    p.add_argument("--untick", help="the child to untick (dropoff)")
    p.add_argument("--card", help="pickup: the guardian's card, to open the pad first (then Cancel)")
    p.add_argument("--pad-code", default="", help="pickup: the code to type on the pad")
    p.add_argument("--expect", type=lambda s: [x for x in s.split(",") if x], default=[], help="children collected (pickup)")
    p.add_argument("--out", required=True)
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--height", type=int, default=1080)
    p.add_argument("--axe-script", default=newest_axe_script())
    args = p.parse_args()
    if se.Axe is None:
        print("household_e2e: FAILED: axe-selenium-python is not installed in this Python", flush=True)
        return 1
    import os
    os.makedirs(args.out, exist_ok=True)
    try:
        d = se.start_browser(args)
        try:
            d.get(args.url.rstrip("/") + "/")
            wait_for(d, "the idle screen", lambda d: visible_screen(d) == "idle", 15)
            wait_for(d, "the event stream", lambda d: d.execute_script("return document.getElementById('net').hidden"), 10)
            (dropoff if args.phase == "dropoff" else pickup)(d, args)
            scripts = [e for e in d.get_log("browser") if e.get("level") == "SEVERE" and "Uncaught" in e.get("message", "")]
            if scripts:
                raise Failure(f"the page threw: {scripts[0].get('message')}")
        except Failure:
            try:
                se.screenshot(d, args.out, "failure-" + args.phase + ".png")
            except Exception:
                pass
            raise
        finally:
            d.quit()
    except Failure as e:
        print(f"household_e2e: FAILED: {e}", flush=True)
        return 1
    except Exception as e:
        traceback.print_exc()
        print(f"household_e2e: FAILED: {type(e).__name__}: {e}", flush=True)
        return 1
    print("household_e2e: axe-core", ", ".join(sorted(se.AXE_VERSIONS)), "findings:", se.AXE_FINDINGS, flush=True)
    print("household_e2e: PASSED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
