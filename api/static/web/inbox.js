// The inbox keeps its group queue fresh without a reload: every few seconds (while the tab is visible and the
// keyboard focus is not inside the queue) it fetches the queue's server-rendered rows and swaps them in.
// With JavaScript off the page is the same, refreshed by reloading.
(function () {
  "use strict";
  var box = document.getElementById("group-queue");
  if (!box) { return; }
  var seconds = Number(box.getAttribute("data-seconds"));
  var url = box.getAttribute("data-refresh");
  if (!url || !(seconds > 0)) { return; }
  var busy = false;
  function refresh() {
    if (busy || document.visibilityState !== "visible" || box.contains(document.activeElement)) { return; }
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } }).then(function (r) {
      if (!r.ok || r.redirected) { throw new Error("stale"); }  // signed out or expired: leave the page as it is
      return r.text();
    }).then(function (html) {
      box.innerHTML = html;
      box.setAttribute("data-refreshed", String(Date.now()));
    }).catch(function () { window.clearInterval(timer); }).then(function () { busy = false; });
  }
  var timer = window.setInterval(refresh, seconds * 1000);
})();
