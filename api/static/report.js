// Draws the procedure's BPMN diagram with bpmn-js (vendored) and overlays, on each user task, the number of
// incidents that reached it and its median wait. Data comes from the page itself (no extra requests).
(function () {
  "use strict";
  var xml = JSON.parse(document.getElementById("bpmn-xml").textContent);
  var figures = JSON.parse(document.getElementById("overlay-data").textContent);
  var viewer = new BpmnJS({ container: "#diagram" });

  function overlay(id, data) {
    var box = document.createElement("div");
    box.className = "ie-overlay";
    box.setAttribute("data-task", id);
    var count = document.createElement("span");
    count.className = "ie-count";
    count.textContent = String(data.incidents);
    count.title = "incidents that reached this task";
    var wait = document.createElement("span");
    wait.className = "ie-wait";
    wait.textContent = data.median_wait === null ? "n/a" : data.median_wait_text;
    wait.title = "median wait";
    box.appendChild(count);
    box.appendChild(document.createTextNode(" \u00b7 "));
    box.appendChild(wait);
    return box;
  }

  viewer.importXML(xml).then(function () {
    var canvas = viewer.get("canvas");
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport");
    Object.keys(figures).forEach(function (id) {
      if (!registry.get(id)) { return; }
      overlays.add(id, "incident-figures", { position: { bottom: 4, left: 4 }, html: overlay(id, figures[id]) });
    });
    document.body.setAttribute("data-diagram", "ready");
  }).catch(function (err) {
    document.body.setAttribute("data-diagram", "failed");
    var box = document.getElementById("diagram");
    box.textContent = "The diagram could not be drawn: " + err.message;
  });
})();
