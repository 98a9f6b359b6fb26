// The designer's workbench: drag and drop onto the upload form, and the version's diagram (bpmn-js, vendored)
// with a marker on each element that has open review comments; clicking an element picks it for a comment.
// Everything here is an enhancement: with JavaScript off the file picker and the lists still work.
(function () {
  "use strict";
  var zone = document.getElementById("dropzone");
  var input = document.getElementById("file");
  if (zone && input) {
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        document.getElementById("upload-form").submit();
      }
    });
  }

  var data = document.getElementById("bpmn-xml");
  if (!data || typeof BpmnJS === "undefined") { return; }
  var counts = JSON.parse(document.getElementById("comment-data").textContent);
  var viewer = new BpmnJS({ container: "#diagram" });
  viewer.importXML(JSON.parse(data.textContent)).then(function () {
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    viewer.get("canvas").zoom("fit-viewport");
    Object.keys(counts).forEach(function (id) {
      if (!registry.get(id)) { return; }
      var marker = document.createElement("span");
      marker.className = "ie-comment-marker";
      marker.setAttribute("data-element", id);
      marker.title = counts[id] + " open comment(s)";
      marker.textContent = String(counts[id]);
      overlays.add(id, "comments", { position: { top: -10, right: 8 }, html: marker });
    });
    var select = document.getElementById("element_id");
    viewer.get("eventBus").on("element.click", function (e) {
      if (!select) { return; }
      var option = select.querySelector('option[value="' + CSS.escape(e.element.id) + '"]');
      if (option) { select.value = e.element.id; document.getElementById("body").focus(); }
    });
    document.body.setAttribute("data-diagram", "ready");
  }).catch(function (err) {
    document.body.setAttribute("data-diagram", "failed");
    document.getElementById("diagram").textContent = "The diagram could not be drawn: " + err.message;
  });
})();
