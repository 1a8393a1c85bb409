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

  var BOOK_KEY = "/pwa-state/book/"; // static/pwa/sw.js: where a kept book is recorded

  // static/pwa/pwa.js (every page, run before this file) shares its worker calls and the
  // keep/remove buttons; it sets nothing without a service worker.
  var offline = window.KnowledgeBridgeOffline;
  if (!offline || !window.caches) {
    return;
  }
  var ask = offline.ask;

  function widget(element) {
    var data = element.dataset;
    return offline.widget(element, {
      files: data.offlineBook,
      // This page's own files (site styles and scripts): the reading page needs them offline.
      extra: function () {
        return offline.pageFiles("link[rel~=stylesheet][href], script[src]");
      },
      keep: "keep-book",
      remove: "remove-book",
      idField: "book",
      id: data.bookId,
      key: BOOK_KEY + data.bookId,
      attribute: "data-kept",
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
