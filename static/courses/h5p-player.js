/*
 * Knowledge Bridge H5P player: starts h5p-standalone on every [data-h5p-player] element and
 * posts each xAPI statement the content emits to our endpoint (data-xapi-endpoint, default
 * /api/xapi/statements) with the CSRF token, a short burst at a time as one list. Statements
 * wait in a queue and are retried with a growing delay while the network is down (slow school
 * links), in order. Under the service worker (static/pwa/sw.js) a list posted offline is
 * queued by the worker (answer 202) and sent by it when the connection returns.
 */
(function () {
  "use strict";

  if (window.KnowledgeBridgeH5P) {
    window.KnowledgeBridgeH5P.start();
    return;
  }

  var queue = [];
  var sending = false;
  var retryDelay = 2000;
  var starting = Promise.resolve();
  var Player = null;

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) {
        return decodeURIComponent(parts[i].slice(eq + 1));
      }
    }
    return "";
  }

  // Statements are sent as a list (an LRS accepts one or many): a burst such as
  // answered + completed costs one request. A list the server refuses is split so one bad
  // statement cannot take good ones down with it.
  var BATCH_SIZE = 25;
  var BATCH_DELAY = 400;
  var timer = null;

  function schedule(delay) {
    if (timer === null) {
      timer = window.setTimeout(function () {
        timer = null;
        flush();
      }, delay);
    }
  }

  function flush() {
    if (sending || queue.length === 0) {
      return;
    }
    sending = true;
    var first = queue[0];
    var batch = first.alone ? [first] : queue.slice(0, BATCH_SIZE).filter(function (item) {
      return item.endpoint === first.endpoint && !item.alone;
    });
    fetch(first.endpoint, {
      method: "POST",
      credentials: "same-origin",
      keepalive: true,
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": cookie("csrftoken") || first.csrf,
        "X-Requested-With": "XMLHttpRequest"
      },
      body: JSON.stringify(batch.map(function (item) { return item.statement; }))
    }).then(function (response) {
      // Server errors and throttling are retried; other refusals would fail again.
      if (response.status >= 500 || response.status === 408 || response.status === 429) {
        throw new Error("xAPI endpoint answered " + response.status);
      }
      if (!response.ok && batch.length > 1) {
        batch.forEach(function (item) { item.alone = true; });
      } else {
        queue.splice(0, batch.length);
      }
      retryDelay = 2000;
      sending = false;
      flush();
    }).catch(function () {
      sending = false;
      window.setTimeout(flush, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 60000);
    });
  }

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (byte) {
      return (byte + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20),
      hex.slice(20)].join("-");
  }

  // Each player may bring its own H5P global and event dispatcher: listen to every one
  // of them, once.
  var dispatchers = [];

  function listen(element) {
    // An empty data-xapi-endpoint (the admin preview) records nothing.
    var dispatcher = window.H5P && window.H5P.externalDispatcher;
    if (element.dataset.xapiEndpoint === "" || !dispatcher ||
        dispatchers.indexOf(dispatcher) !== -1) {
      return;
    }
    dispatchers.push(dispatcher);
    dispatcher.on("xAPI", function (event) {
      var statement = event.data.statement;
      // An id of its own: a statement sent twice (queued offline by the service worker,
      // retried here) is stored once.
      statement.id = statement.id || uuid();
      queue.push({
        endpoint: element.dataset.xapiEndpoint,
        csrf: element.dataset.csrfToken || "",
        statement: statement
      });
      schedule(BATCH_DELAY);
    });
  }

  // H5P writes the content's document into an about:blank frame (document.open/write). Chromium
  // sends the requests of such a frame to the network, never through the service worker
  // (crbug.com/880768), so a lesson saved for offline use could not play there: the frame gets
  // the same document as srcdoc instead, a client of the page's service worker. The page's
  // Content-Security-Policy applies to it as before (the hash of its one inline script).
  function writeAsSrcdoc(frame) {
    var doc = frame.contentDocument;
    if (!doc || frame.hasAttribute("data-srcdoc")) {
      return;
    }
    frame.setAttribute("data-srcdoc", "");
    var html = "";
    doc.open = function () {
      html = "";
      return doc;
    };
    doc.write = function (text) {
      html += text;
    };
    doc.close = function () {
      frame.srcdoc = html;
    };
  }

  function framesAsSrcdoc(element) {
    new MutationObserver(function () {
      element.querySelectorAll("iframe.h5p-iframe").forEach(writeAsSrcdoc);
    }).observe(element, { childList: true, subtree: true });
  }

  function play(element) {
    var data = element.dataset;
    var status = element.querySelector(".h5p-player-status");
    framesAsSrcdoc(element);
    return new Player(element, {
      id: element.id,
      h5pJsonPath: data.h5pJsonPath,
      contentJsonPath: data.contentJsonPath,
      librariesPath: data.librariesPath,
      frameJs: data.frameJs,
      frameCss: data.frameCss,
      xAPIObjectIRI: data.xapiIri,
      fullScreen: true,
      frame: false,
      copyright: false,
      export: false,
      embed: false,
      icon: false
    }).then(function () {
      if (status) {
        status.remove();
      }
      listen(element);
    }).catch(function () {
      if (status) {
        status.remove();
      }
      var error = element.parentNode.querySelector(".h5p-player-error");
      if (error) {
        error.hidden = false;
      }
    });
  }

  function start() {
    // The player's frame script replaces window.H5PStandalone once content runs: keep the
    // constructor from before the first player starts, for every player of the page.
    Player = Player || (window.H5PStandalone && window.H5PStandalone.H5P);
    var elements = document.querySelectorAll("[data-h5p-player]:not([data-h5p-started])");
    Array.prototype.forEach.call(elements, function (element) {
      element.setAttribute("data-h5p-started", "");
      // h5p-standalone sets up one global H5PIntegration: start players one after another.
      starting = starting.then(function () { return play(element); });
    });
  }

  window.addEventListener("online", flush);
  window.KnowledgeBridgeH5P = { start: start, queue: queue, flush: flush };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
