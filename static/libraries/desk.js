// Circulation desk: keep the cursor in the scan field, send each scan without reloading,
// show the answer in colour and beep on a refusal. Without this script the form still posts.
(function () {
  "use strict";
  var form = document.getElementById("desk-form");
  if (!form) return;
  var input = document.getElementById("desk-code");
  var status = document.getElementById("desk-status");
  var panel = document.getElementById("desk-panel");
  var busy = false;
  var audio = null;

  function beep(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = ok ? 880 : 220;
      osc.type = ok ? "sine" : "square";
      gain.gain.value = 0.15;
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + (ok ? 0.08 : 0.45));
    } catch (e) { /* no sound available */ }
  }

  function show(level, message) {
    status.className = "desk-status " + level;
    status.textContent = message;
  }

  function setMode(value) {
    var radio = form.querySelector('input[name="mode"][value="' + value + '"]');
    if (radio) radio.checked = true;
  }

  function send(action) {
    if (busy) return;
    busy = true;
    var data = new FormData(form);
    if (action) data.set("action", action);
    input.value = "";
    fetch(form.dataset.api, {
      method: "POST",
      body: data,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        show(answer.level, answer.message);
        panel.innerHTML = answer.panel;
        setMode(answer.mode);
        if (answer.level === "error") beep(false);
        else if (answer.level === "warning") beep(true);
      })
      .catch(function () {
        show("error", form.dataset.offline || "Connection lost: scan again.");
        beep(false);
      })
      .finally(function () { busy = false; input.focus(); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var submitter = event.submitter;
    send(submitter && submitter.name === "action" ? submitter.value : "");
  });
  document.addEventListener("keydown", function (event) {
    var keyed = form.querySelector('input[name="mode"][data-key="' + event.key + '"]');
    if (keyed) {
      event.preventDefault();
      keyed.checked = true;
      input.focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      send("clear");
    }
  });
  form.addEventListener("change", function (event) {
    if (event.target.name === "library") {
      window.location.search = "?library=" + encodeURIComponent(event.target.value);
      return;
    }
    input.focus();
  });
  // A scanner types into whatever has focus: bring it back to the scan field.
  document.addEventListener("click", function (event) {
    if (!event.target.closest("a, select, textarea, input:not([type=radio])")) input.focus();
  });
  input.focus();
})();
