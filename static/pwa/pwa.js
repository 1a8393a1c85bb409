/*
 * The installable app on every page (templates/base.html): registers the service worker
 * (/sw.js, static/pwa/sw.js) and talks to it.
 *   - tells it whose pages these are (data-account: empty when logged out), so a new account
 *     or a logout clears the pages and lessons kept for the one before;
 *   - asks it to send the statements it queued offline, on load and when the connection
 *     returns (Background Sync does not fire in every browser), and shows what it did in
 *     [data-pwa-status] (texts in data-queued, data-sent);
 *   - [data-offline-lesson]: the "available offline" button of a lesson;
 *   - [data-offline-lessons]: the offline page's list of saved lessons; [data-pwa-reload].
 */
(function () {
  "use strict";

  var OFFLINE = "kb-offline-v1"; // static/pwa/sw.js: saved lessons
  var LESSON_KEY = "/pwa-state/lesson/";
  var script = document.currentScript;
  var settings = script ? script.dataset : {};

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-pwa-reload]")) {
      window.location.reload();
    }
  });

  if (!("serviceWorker" in navigator) || !window.isSecureContext) {
    return;
  }
  var workers = navigator.serviceWorker;

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

  // Post a message to the active worker; resolves with its answer.
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

  function replay() {
    if (navigator.onLine === false || settings.account === undefined) {
      return Promise.resolve();
    }
    return ask({ type: "replay", account: settings.account, csrf: cookie("csrftoken") });
  }

  function say(text) {
    var region = document.querySelector("[data-pwa-status]");
    if (!region || !text) {
      return;
    }
    var line = document.createElement("p");
    line.className = "message";
    line.textContent = text;
    region.replaceChildren(line);
  }

  workers.addEventListener("message", function (event) {
    var region = document.querySelector("[data-pwa-status]");
    var message = event.data || {};
    if (!region) {
      return;
    }
    if (message.type === "statements-queued") {
      say(region.dataset.queued);
    } else if (message.type === "statements-sent") {
      say(region.dataset.sent);
    }
  });
  workers.startMessages();

  function started() {
    var first = !workers.controller;
    var steps = Promise.resolve();
    if (settings.account !== undefined) {
      steps = steps.then(function () {
        return ask({ type: "account", account: settings.account });
      });
      if (first) {
        // Seen before the worker controlled this tab: a catalog or guide page is kept now.
        steps = steps.then(function () {
          return ask({ type: "visited", url: window.location.href });
        });
      }
    }
    return steps.then(replay).catch(function () {});
  }

  if (settings.serviceWorker) {
    // Resolves once the worker runs and has heard from this page (tests wait for it).
    window.KnowledgeBridgePWA = {
      started: workers
        .register(settings.serviceWorker, { scope: "/" })
        .then(function () {
          return workers.ready;
        })
        .then(started)
        .catch(function () {})
    };
    window.addEventListener("online", function () {
      replay().catch(function () {});
    });
  }

  // ---- kept for offline: lessons here, books in static/reader/offline.js ---------------

  function keptRecord(key) {
    return caches
      .open(OFFLINE)
      .then(function (cache) {
        return cache.match(key);
      })
      .then(function (response) {
        return response ? response.json() : null;
      });
  }

  // Files of this page the server's list may not name (`selector`: its styles, scripts,
  // images in the text).
  function pageFiles(selector) {
    var found = [];
    document.querySelectorAll(selector).forEach(function (element) {
      var url = new URL(element.href || element.src, window.location.href);
      if (url.origin === window.location.origin) {
        found.push(url.pathname + url.search);
      }
    });
    return found;
  }

  // The "keep offline" / "remove from this device" buttons of one lesson or book:
  //   files: the server's list of what to keep; extra(): this page's files (at the click);
  //   keep, remove: the worker's message types; idField, id: whose copy to remove;
  //   key: where the worker records the copy; attribute: set to "true" while kept.
  // Resolves once the buttons show what the worker keeps.
  function offlineWidget(element, options) {
    var data = element.dataset;
    var save = element.querySelector("[data-offline-save]");
    var remove = element.querySelector("[data-offline-remove]");
    var state = element.querySelector("[data-offline-state]");

    function show(kept, text) {
      save.hidden = kept;
      remove.hidden = !kept;
      save.disabled = false;
      remove.disabled = false;
      element.setAttribute(options.attribute, kept ? "true" : "false");
      state.textContent = text || "";
    }

    save.addEventListener("click", function () {
      save.disabled = true;
      state.textContent = data.textSaving;
      ask({ type: options.keep, files: options.files, extra: options.extra() }).then(
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
      var message = { type: options.remove };
      message[options.idField] = options.id;
      ask(message).then(
        function () {
          show(false, data.textRemoved);
        },
        function () {
          show(true, data.textSaved);
        }
      );
    });
    return keptRecord(options.key).then(function (record) {
      show(Boolean(record), record ? data.textSaved : "");
      element.hidden = false;
    });
  }

  window.KnowledgeBridgeOffline = { ask: ask, pageFiles: pageFiles, widget: offlineWidget };

  function lessonWidget(element) {
    var data = element.dataset;
    offlineWidget(element, {
      files: data.offlineLesson,
      extra: function () {
        return pageFiles("link[rel~=stylesheet][href], script[src], img[src]");
      },
      keep: "save-lesson",
      remove: "remove-lesson",
      idField: "lesson",
      id: data.lessonId,
      key: LESSON_KEY + data.lessonId,
      attribute: "data-saved",
    });
  }

  function savedList(section) {
    caches
      .open(OFFLINE)
      .then(function (cache) {
        return cache.keys().then(function (requests) {
          return Promise.all(
            requests
              .filter(function (request) {
                return new URL(request.url).pathname.indexOf(LESSON_KEY) === 0;
              })
              .map(function (request) {
                return cache.match(request).then(function (response) {
                  return response.json();
                });
              })
          );
        });
      })
      .then(function (records) {
        var list = section.querySelector("ul");
        records.forEach(function (record) {
          var item = document.createElement("li");
          var link = document.createElement("a");
          link.href = record.url;
          link.textContent = record.title;
          item.appendChild(link);
          list.appendChild(item);
        });
        section.hidden = records.length === 0;
      })
      .catch(function () {});
  }

  function ready() {
    document.querySelectorAll("[data-offline-lesson]").forEach(lessonWidget);
    document.querySelectorAll("[data-offline-lessons]").forEach(savedList);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
