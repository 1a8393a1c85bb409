/*
 * Books kept for offline reading (docs/DIGITAL.md, "Offline reading"), on the reading page
 * and on /my/loans/. The service worker (static/pwa/sw.js) does the work; this asks it.
 *   [data-offline-book]   "Keep for offline reading" / "Remove from this device" for one
 *                         book (data-offline-book: the server's list of what to keep, which
 *                         refuses a book this account may not keep; data-book-id)
 *   [data-offline-check]  on /my/loans/: the worker asks the server which kept books this
 *                         account may still keep and drops the others (a loan returned)
 * Without a service worker (an older browser, plain http) nothing shows.
 */
(function () {
  "use strict";

  var OFFLINE = "kb-offline-v1"; // static/pwa/sw.js: saved lessons and kept books
  var BOOK_KEY = "/pwa-state/book/";

  if (!("serviceWorker" in navigator) || !window.isSecureContext || !window.caches) {
    return;
  }
  var workers = navigator.serviceWorker;

  function ask(message) {
    return workers.ready.then(function (registration) {
      return new Promise(function (resolve, reject) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function (event) {
          var answer = event.data || {};
          if (answer.ok) {
            resolve(answer.result);
          } else {
            reject(new Error(answer.error || "no answer"));
          }
        };
        registration.active.postMessage(message, [channel.port2]);
      });
    });
  }

  function keptBook(id) {
    return caches
      .open(OFFLINE)
      .then(function (cache) {
        return cache.match(BOOK_KEY + id);
      })
      .then(function (response) {
        return response ? response.json() : null;
      });
  }

  // This page's own files (site styles and scripts): the reading page needs them offline.
  function pageFiles() {
    var found = [];
    document.querySelectorAll("link[rel~=stylesheet][href], script[src]").forEach(function (el) {
      var url = new URL(el.href || el.src, window.location.href);
      if (url.origin === window.location.origin) {
        found.push(url.pathname + url.search);
      }
    });
    return found;
  }

  function widget(element) {
    var data = element.dataset;
    var save = element.querySelector("[data-offline-save]");
    var remove = element.querySelector("[data-offline-remove]");
    var state = element.querySelector("[data-offline-state]");

    function show(kept, text) {
      save.hidden = kept;
      remove.hidden = !kept;
      save.disabled = false;
      remove.disabled = false;
      element.setAttribute("data-kept", kept ? "true" : "false");
      state.textContent = text || "";
    }

    save.addEventListener("click", function () {
      save.disabled = true;
      state.textContent = data.textSaving;
      ask({ type: "keep-book", files: data.offlineBook, extra: pageFiles() }).then(
        function () {
          show(true, data.textSaved);
        },
        function () {
          show(false, data.textFailed);
        }
      );
    });
    remove.addEventListener("click", function () {
      remove.disabled = true;
      ask({ type: "remove-book", book: data.bookId }).then(
        function () {
          show(false, data.textRemoved);
        },
        function () {
          show(true, data.textSaved);
        }
      );
    });
    return keptBook(data.bookId).then(function (record) {
      show(Boolean(record), record ? data.textSaved : "");
      element.hidden = false;
    });
  }

  function ready() {
    var work = [];
    if (document.querySelector("[data-offline-check]") && navigator.onLine !== false) {
      work.push(ask({ type: "check-books" }).catch(function () {}));
    }
    // The buttons show what the worker keeps once the check is done.
    window.KnowledgeBridgeBooks = {
      ready: Promise.all(work).then(function () {
        return Promise.all(
          Array.prototype.map.call(document.querySelectorAll("[data-offline-book]"), widget)
        );
      }),
    };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
