// A task's Camunda Form (.form, form-js schema) drawn by the vendored form-js viewer, pre-filled with the
// incident's values. form-js checks the fields as you type; on submit its data goes to the server as JSON in
// a plain form post, where the engine validates it again (the only check that counts).
(function () {
  "use strict";
  var box = document.getElementById("form-js");
  var post = document.getElementById("task-form");
  if (!box || !post || typeof FormViewer === "undefined") { return; }
  var schema = JSON.parse(document.getElementById("form-schema").textContent);
  var values = JSON.parse(document.getElementById("form-values").textContent);
  var viewer = new FormViewer.Form({ container: box });

  function send(result) {
    if (result.errors && Object.keys(result.errors).length) { return; }  // form-js shows them beside the fields
    document.getElementById("form-data").value = JSON.stringify(result.data);
    post.submit();
  }

  viewer.importSchema(schema, values).then(function () {
    viewer.on("submit", function (event) { send(event); });
    post.addEventListener("submit", function (event) {
      event.preventDefault();
      send(viewer.submit());
    });
    document.body.setAttribute("data-form", "ready");
  }).catch(function (err) {
    document.body.setAttribute("data-form", "failed");
    box.textContent = "The form could not be drawn: " + err.message;
  });
})();
