// Jiayuan Kiosk — staff console behaviour. Everything works without this file; it only adds:
//  1. the scan box is always ready: a card scanner "types" into whatever has focus, so printable keys typed
//     while nothing editable has focus go to the scan box (a scan then opens the member). Space, Enter and
//     Tab keep their meaning, so buttons and links still work from the keyboard;
//  2. the floor's live part refreshes every 5 seconds (not while someone is working inside it);
//  3. forms marked data-confirm ask before a step that cannot be undone.
(function () {
  "use strict";
  var box = document.getElementById("scan-box");

  function editable(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || el.isContentEditable;
  }

  document.addEventListener("keydown", function (e) {
    if (!box || e.ctrlKey || e.metaKey || e.altKey || e.key.length !== 1 || e.key === " ") return;
    if (editable(document.activeElement)) return;
    box.focus();
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) e.preventDefault();
  });

  var live = document.getElementById("floor-live");
  if (live) {
    var url = live.getAttribute("data-live");
    setInterval(function () {
      if (document.hidden || live.contains(document.activeElement)) return;
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) {
          if (r.redirected || !r.ok) return null;
          return r.text();
        })
        .then(function (html) {
          if (html !== null && !live.contains(document.activeElement)) live.innerHTML = html;
        })
        .catch(function () {});
    }, 5000);
  }
})();
