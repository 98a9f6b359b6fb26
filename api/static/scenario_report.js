// Draws the version's BPMN diagram with bpmn-js (vendored) and colours every sequence flow by what the
// scenario tests showed: covered, not covered, or declared not testable. Data comes from the page itself.
(function () {
  "use strict";
  var xml = JSON.parse(document.getElementById("bpmn-xml").textContent);
  var marks = JSON.parse(document.getElementById("flow-marks").textContent);
  var viewer = new BpmnJS({ container: "#diagram" });

  viewer.importXML(xml).then(function () {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport");
    Object.keys(marks).forEach(function (id) {
      if (!registry.get(id)) { return; }
      canvas.addMarker(id, "ie-" + marks[id]);
    });
    document.body.setAttribute("data-diagram", "ready");
  }).catch(function (err) {
    document.body.setAttribute("data-diagram", "failed");
    document.getElementById("diagram").textContent = "The diagram could not be drawn: " + err.message;
  });
})();
