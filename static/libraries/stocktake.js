// Stocktake scanning: every scan goes into a queue kept in localStorage, then is sent in
// order in batches. A stalled connection never loses a scan; it is retried.
(function () {
  "use strict";
  var form = document.getElementById("stocktake-form");
  if (!form) return;
  var input = document.getElementById("stocktake-code");
  var key = form.dataset.queueKey;
  var note = document.getElementById("queue-note");
  var size = document.getElementById("queue-size");
  var log = document.getElementById("scan-log");
  var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var sending = false;

  function load() { try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; } }
  function save(queue) { localStorage.setItem(key, JSON.stringify(queue)); }
  function showQueue(queue) { size.textContent = queue.length; note.hidden = queue.length === 0; }

  function flush() {
    var queue = load();
    showQueue(queue);
    if (sending || queue.length === 0) return;
    sending = true;
    var batch = queue.slice(0, 200);
    fetch(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, Accept: "application/json" },
      body: JSON.stringify({ barcodes: batch }),
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (answer) {
        save(load().slice(batch.length));
        answer.new.forEach(function (scan) {
          var li = document.createElement("li");
          li.textContent = scan.barcode + " · " + scan.label;
          log.insertBefore(li, log.firstChild);
        });
        Object.keys(answer.counts).forEach(function (name) {
          var el = document.querySelector('[data-count="' + name + '"]');
          if (el) el.textContent = answer.counts[name];
        });
        sending = false;
        flush();
      })
      .catch(function () { sending = false; setTimeout(flush, 3000); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = input.value.trim();
    input.value = "";
    input.focus();
    if (!code) return;
    var queue = load();
    queue.push(code);
    save(queue);
    flush();
  });
  window.addEventListener("online", flush);
  flush();
})();
