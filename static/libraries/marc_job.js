/*
 * MARC import progress (templates/libraries/catalog/admin/marc_job.html): polls the job's
 * status URL (data-status-url) and fills the [data-field] elements until the job finishes,
 * then reloads the page to show its final report.
 */
(function () {
  "use strict";

  var box = document.getElementById("marc-job");
  if (!box || box.dataset.finished) {
    return;
  }

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        document.getElementById("marc-progress").value = data.progress;
        box.querySelectorAll("[data-field]").forEach(function (element) {
          if (element.dataset.field in data) {
            element.textContent = data[element.dataset.field];
          }
        });
        if (data.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  window.setTimeout(poll, 1000);
})();
