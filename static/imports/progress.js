// Polls the batch status while the import runs in a worker, then reloads the report.
(function () {
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-poll");
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.running) { setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 700);
})();
