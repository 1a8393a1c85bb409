/*
 * Knowledge Bridge service worker, served at /sw.js by training_site/pwa.py, which writes the
 * site's settings before this text as self.KB_PWA (URLs, the precache list with revisions).
 * Workbox's modules come from our own static files (package.json pins them), never a CDN.
 *
 *   the offline shell      precached: the offline page, site CSS/JS, icons
 *   catalog, guides, home  network first; the copies of pages visited are kept (bounded)
 *   saved lessons          "available offline" on a lesson: its page, H5P content, libraries
 *                          and player files in one cache, refreshed when visited online
 *   static files           served from the cache, refreshed in the background
 *   everything else        network only (admin, desk, accounts, API, personal pages); a
 *                          page that cannot load shows the offline page
 *   xAPI statements        posted while offline are queued (Background Sync) and sent when
 *                          the connection returns; their ids make a second delivery harmless
 *
 * Pages kept and saved lessons belong to the account that fetched them: they are cleared when
 * someone logs out or another account shows up (a shared school PC).
 */
/* global workbox */
"use strict";

var CONFIG = self.KB_PWA;
importScripts(CONFIG.workbox + "workbox-sw.js");
workbox.setConfig({ modulePathPrefix: CONFIG.workbox, debug: false });

// Every module is loaded now: importScripts is refused once the worker is installed.
var core = workbox.core;
var routing = workbox.routing;
var strategies = workbox.strategies;
var precaching = workbox.precaching;
var expiration = workbox.expiration;
var backgroundSync = workbox.backgroundSync;
var cacheableResponse = workbox.cacheableResponse;

core.setCacheNameDetails({ prefix: "kb", suffix: "v1" });
var PAGES = "kb-pages-v1";
var STATIC = "kb-static-v1";
var IMAGES = "kb-images-v1";
var OFFLINE = "kb-offline-v1"; // saved lessons, and one entry per lesson listing its files
var STATE = "kb-state-v1";
var KNOWN = [PAGES, STATIC, IMAGES, OFFLINE, STATE];
// Cache keys of our own (no such page exists): a saved lesson's record, + its id, and the
// account the kept pages belong to. static/pwa/pwa.js reads the lesson records too.
var LESSON_KEY = self.location.origin + "/pwa-state/lesson/";
var ACCOUNT_KEY = self.location.origin + "/pwa-state/account";
var MATCH = { ignoreVary: true };

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(
        names
          .filter(function (name) {
            return /^kb-/.test(name) && KNOWN.indexOf(name) === -1 && !/^kb-precache-/.test(name);
          })
          .map(function (name) {
            return caches.delete(name);
          })
      );
    })
  );
});

precaching.cleanupOutdatedCaches();
precaching.precacheAndRoute(CONFIG.precache, { directoryIndex: null, cleanURLs: false });

function startsWithAny(path, prefixes) {
  return prefixes.some(function (prefix) {
    return path.indexOf(prefix) === 0;
  });
}

function sameOrigin(url) {
  return url.origin === self.location.origin;
}

var NEVER_PATTERNS = CONFIG.neverPatterns.map(function (pattern) {
  return new RegExp(pattern);
});

function neverKept(path) {
  return (
    startsWithAny(path, CONFIG.never) ||
    NEVER_PATTERNS.some(function (pattern) {
      return pattern.test(path);
    })
  );
}

function keptPage(path) {
  return (
    !neverKept(path) &&
    (CONFIG.pages.exact.indexOf(path) !== -1 || startsWithAny(path, CONFIG.pages.prefixes))
  );
}

// ---- the account the kept pages belong to -------------------------------------------------

var serial = Promise.resolve();

// Work on caches and the queue one piece at a time, in the order asked.
function inTurn(work) {
  var next = serial.then(work);
  serial = next.catch(function () {});
  return next;
}

function storedAccount() {
  return caches
    .open(STATE)
    .then(function (cache) {
      return cache.match(ACCOUNT_KEY);
    })
    .then(function (response) {
      return response ? response.text() : "";
    });
}

function storeAccount(account) {
  return caches.open(STATE).then(function (cache) {
    return cache.put(ACCOUNT_KEY, new Response(account));
  });
}

var pagesExpiration = new expiration.ExpirationPlugin({
  maxEntries: CONFIG.maxPages,
  maxAgeSeconds: 30 * 24 * 3600,
  purgeOnQuotaError: true,
});

// What one account saw: kept pages and saved lessons (their pages show the learner's progress).
function clearPersonal() {
  return Promise.all([pagesExpiration.deleteCacheAndMetadata(), caches.delete(OFFLINE)]);
}

// Pages that came from the network (not a kept copy) say whose session they were made for.
var freshClients = new Set();

function setAccount(account, clientId) {
  if (!freshClients.delete(clientId)) {
    return Promise.resolve(false);
  }
  return storedAccount().then(function (previous) {
    if (previous === account) {
      return false;
    }
    var work = [storeAccount(account)];
    if (previous) {
      work.push(clearPersonal());
    }
    if (account) {
      work.push(dropStatements(account));
    }
    return Promise.all(work).then(function () {
      return true;
    });
  });
}

// ---- xAPI statements: queued while offline, sent when the connection returns -------------

var statements = new backgroundSync.Queue("kb-xapi-statements", {
  maxRetentionTime: 7 * 24 * 60,
  onSync: function () {
    return inTurn(function () {
      return sendStatements({});
    });
  },
});

function broadcast(message) {
  return self.clients.matchAll({ type: "window" }).then(function (clients) {
    clients.forEach(function (client) {
      client.postMessage(message);
    });
  });
}

function postStatements(options) {
  var request = options.request;
  var copy = request.clone();
  return fetch(request).catch(function () {
    return storedAccount()
      .then(function (account) {
        return statements.pushRequest({ request: copy, metadata: { account: account } });
      })
      .then(function () {
        broadcast({ type: "statements-queued" });
        return new Response(JSON.stringify({ queued: true }), {
          status: 202,
          headers: { "Content-Type": "application/json", "X-Statements-Queued": "1" },
        });
      });
  });
}

// Statements of another account are never sent with this session: dropped when it shows up.
// (Those queued before the worker knew the account stay: their CSRF token still guards them.)
function dropStatements(account) {
  return statements.getAll().then(function (entries) {
    var others = entries.filter(function (entry) {
      var owner = (entry.metadata || {}).account || "";
      return owner && owner !== account;
    });
    if (!others.length) {
      return undefined;
    }
    var keep = entries.filter(function (entry) {
      return others.indexOf(entry) === -1;
    });
    return drain().then(function () {
      return keep.reduce(function (done, entry) {
        return done.then(function () {
          return statements.pushRequest(entry);
        });
      }, Promise.resolve());
    });
  });
}

function drain() {
  return statements.shiftRequest().then(function (entry) {
    return entry ? drain() : undefined;
  });
}

var RETRY = [408, 429];

/*
 * Send the queue in order. A page passes its CSRF token (the one stored with a request may be
 * older than the session's): it is used for the statements of the page's own account only.
 * A network failure stops and keeps the rest; so do server errors and throttling. A 403 with
 * the stored token waits for a page of its account (and its token); other answers (stored,
 * or refused for good) end the entry.
 */
function sendStatements(options) {
  return storedAccount().then(function (stored) {
    var token = options.csrf && stored && options.account === stored ? options.csrf : "";
    var kept = [];
    var sent = 0;

    function next() {
      return statements.shiftRequest().then(function (entry) {
        if (!entry) {
          return undefined;
        }
        var owner = (entry.metadata || {}).account || "";
        var request = entry.request.clone();
        var renewed = Boolean(token && owner === stored);
        if (renewed) {
          var headers = new Headers(request.headers);
          headers.set("X-CSRFToken", token);
          request = new Request(request, { headers: headers });
        }
        return fetch(request).then(
          function (response) {
            if (response.ok) {
              sent += 1;
              return next();
            }
            if (response.status === 403) {
              if (!renewed) {
                kept.push(entry);
              }
              return next();
            }
            if (response.status >= 500 || RETRY.indexOf(response.status) !== -1) {
              kept.push(entry);
              return undefined;
            }
            return next();
          },
          function (error) {
            kept.push(entry);
            throw error;
          }
        );
      });
    }

    function putBack() {
      return kept.reverse().reduce(function (done, entry) {
        return done.then(function () {
          return statements.unshiftRequest(entry);
        });
      }, Promise.resolve());
    }

    return next().then(
      function () {
        return putBack().then(function () {
          if (sent) {
            broadcast({ type: "statements-sent", count: sent });
          }
          return sent;
        });
      },
      function (error) {
        return putBack().then(function () {
          if (sent) {
            broadcast({ type: "statements-sent", count: sent });
          }
          throw error;
        });
      }
    );
  });
}

routing.registerRoute(
  function (context) {
    return sameOrigin(context.url) && context.url.pathname === CONFIG.xapi;
  },
  postStatements,
  "POST"
);

// Logging out: what this account saw goes at once (the next page confirms the change).
self.addEventListener("fetch", function (event) {
  var url = new URL(event.request.url);
  if (
    event.request.method === "POST" &&
    sameOrigin(url) &&
    CONFIG.logout.indexOf(url.pathname) !== -1
  ) {
    event.waitUntil(
      inTurn(function () {
        return clearPersonal().then(function () {
          return storeAccount("");
        });
      })
    );
  }
});

// ---- pages -------------------------------------------------------------------------------

function onlyIfSaved() {
  return {
    // A saved lesson (and its files) is refreshed when fetched online; nothing else is kept.
    cacheWillUpdate: function (context) {
      var response = context.response;
      if (!response || response.status !== 200) {
        return null;
      }
      return caches.open(OFFLINE).then(function (cache) {
        return cache.match(context.request, MATCH).then(function (saved) {
          return saved ? response : null;
        });
      });
    },
  };
}

// A response the cache had, not the network's, is being used.
function servedFromCache() {
  return {
    cachedResponseWillBeUsed: function (context) {
      if (context.cachedResponse && context.event && context.event.resultingClientId) {
        freshClients.delete(context.event.resultingClientId);
      }
      return context.cachedResponse;
    },
  };
}

var keptPages = new strategies.NetworkFirst({
  cacheName: PAGES,
  networkTimeoutSeconds: CONFIG.networkTimeout,
  matchOptions: MATCH,
  plugins: [
    new cacheableResponse.CacheableResponsePlugin({ statuses: [200] }),
    pagesExpiration,
    servedFromCache(),
  ],
});
var savedPages = new strategies.NetworkFirst({
  cacheName: OFFLINE,
  networkTimeoutSeconds: CONFIG.networkTimeout,
  matchOptions: MATCH,
  plugins: [onlyIfSaved(), servedFromCache()],
});
var networkOnly = new strategies.NetworkOnly();

function isPage(context) {
  var path = context.url.pathname;
  return (
    context.request.mode === "navigate" &&
    sameOrigin(context.url) &&
    !startsWithAny(path, CONFIG.files) &&
    path.split("/").pop().indexOf(".") === -1 // a download such as a certificate PDF
  );
}

routing.registerRoute(isPage, function (context) {
  var path = context.url.pathname;
  var id = context.event && context.event.resultingClientId;
  if (id) {
    freshClients.add(id);
  }
  if (neverKept(path)) {
    return networkOnly.handle(context);
  }
  return (keptPage(path) ? keptPages : savedPages).handle(context);
});

// ---- files -------------------------------------------------------------------------------

function fromAnyCache() {
  return {
    // Offline, a file missing from its own cache may be part of a saved lesson.
    handlerDidError: function (context) {
      return caches.match(context.request, MATCH);
    },
  };
}

routing.registerRoute(
  function (context) {
    var path = context.url.pathname;
    return (
      sameOrigin(context.url) &&
      path.indexOf(CONFIG.static) === 0 &&
      !startsWithAny(path, CONFIG.staticNotKept)
    );
  },
  new strategies.StaleWhileRevalidate({
    cacheName: STATIC,
    matchOptions: MATCH,
    plugins: [
      new cacheableResponse.CacheableResponsePlugin({ statuses: [200] }),
      new expiration.ExpirationPlugin({
        maxEntries: 150,
        maxAgeSeconds: 30 * 24 * 3600,
        purgeOnQuotaError: true,
      }),
      fromAnyCache(),
    ],
  })
);

// H5P libraries ask for their fonts with a version in the query (h5p.woff?105): kept without.
routing.registerRoute(
  function (context) {
    return sameOrigin(context.url) && context.url.pathname.indexOf(CONFIG.h5pMedia) === 0;
  },
  new strategies.NetworkFirst({
    cacheName: OFFLINE,
    networkTimeoutSeconds: CONFIG.networkTimeout,
    matchOptions: { ignoreVary: true, ignoreSearch: true },
    plugins: [onlyIfSaved(), fromAnyCache()],
  })
);

routing.registerRoute(
  function (context) {
    return (
      sameOrigin(context.url) &&
      context.request.destination === "image" &&
      startsWithAny(context.url.pathname, CONFIG.images)
    );
  },
  new strategies.CacheFirst({
    cacheName: IMAGES,
    matchOptions: MATCH,
    plugins: [
      new cacheableResponse.CacheableResponsePlugin({ statuses: [200] }),
      new expiration.ExpirationPlugin({
        maxEntries: 60,
        maxAgeSeconds: 30 * 24 * 3600,
        purgeOnQuotaError: true,
      }),
      fromAnyCache(),
    ],
  })
);

routing.setCatchHandler(function (context) {
  if (context.request.mode === "navigate") {
    return precaching.matchPrecache(CONFIG.offlinePage).then(function (response) {
      return response || Response.error();
    });
  }
  return Promise.resolve(Response.error());
});

// ---- saved lessons -----------------------------------------------------------------------

function localUrl(value) {
  try {
    var url = new URL(value, self.location.origin);
    return sameOrigin(url) ? url.href.split("#")[0] : null;
  } catch (error) {
    return null;
  }
}

function unique(values) {
  return values.filter(function (value, index) {
    return value && values.indexOf(value) === index;
  });
}

// Fetch one file to keep; a network failure or a server error is tried once more.
function fetchToKeep(url, retried) {
  return fetch(url, { credentials: "same-origin" }).then(
    function (response) {
      if (response.status >= 500 && !retried) {
        return fetchToKeep(url, true);
      }
      if (!response.ok || response.redirected) {
        throw new Error("could not fetch " + url);
      }
      return response;
    },
    function (error) {
      if (retried) {
        throw error;
      }
      return fetchToKeep(url, true);
    }
  );
}

// Fetch and keep `urls`, the first (the lesson's page) alone, then the files a few at a time
// (a weak school link); fails if any fails.
function keepAll(cache, urls) {
  var queue = urls.slice(1);
  function worker() {
    var url = queue.shift();
    if (!url) {
      return Promise.resolve();
    }
    return fetchToKeep(url)
      .then(function (response) {
        return cache.put(url, response);
      })
      .then(worker);
  }
  return fetchToKeep(urls[0])
    .then(function (response) {
      return cache.put(urls[0], response);
    })
    .then(function () {
      return Promise.all([worker(), worker(), worker(), worker()]);
    });
}

function savedRecords(cache) {
  return cache.keys().then(function (requests) {
    return Promise.all(
      requests
        .filter(function (request) {
          return request.url.indexOf(LESSON_KEY) === 0;
        })
        .map(function (request) {
          return cache.match(request).then(function (response) {
            return response.json();
          });
        })
    );
  });
}

// Remove the files no saved lesson lists any more (libraries are shared between lessons).
function prune(cache) {
  return savedRecords(cache).then(function (records) {
    var used = new Set();
    records.forEach(function (record) {
      record.files.forEach(function (url) {
        used.add(url);
      });
    });
    return cache.keys().then(function (requests) {
      return Promise.all(
        requests
          .filter(function (request) {
            return request.url.indexOf(LESSON_KEY) !== 0 && !used.has(request.url);
          })
          .map(function (request) {
            return cache.delete(request);
          })
      );
    });
  });
}

function saveLesson(message) {
  var listing = localUrl(message.files);
  if (!listing) {
    return Promise.reject(new Error("no list of files"));
  }
  return fetch(listing, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok || response.redirected) {
        throw new Error("the lesson's files could not be listed");
      }
      return response.json();
    })
    .then(function (lesson) {
      var files = unique(lesson.files.concat(message.extra || []).map(localUrl));
      return caches.open(OFFLINE).then(function (cache) {
        var record = {
          lesson: lesson.lesson,
          title: lesson.title,
          url: localUrl(lesson.url),
          files: files,
        };
        return keepAll(cache, files).then(
          function () {
            return cache
              .put(
                LESSON_KEY + lesson.lesson,
                new Response(JSON.stringify(record), {
                  headers: { "Content-Type": "application/json" },
                })
              )
              .then(function () {
                return { files: files.length };
              });
          },
          function (error) {
            return prune(cache).then(function () {
              throw error;
            });
          }
        );
      });
    });
}

function removeLesson(message) {
  return caches.open(OFFLINE).then(function (cache) {
    return cache.delete(LESSON_KEY + String(message.lesson)).then(function () {
      return prune(cache);
    });
  });
}

// A kept page first seen before this worker controlled the tab.
function keepVisited(message) {
  var href = localUrl(message.url);
  if (!href || !keptPage(new URL(href).pathname)) {
    return Promise.resolve(false);
  }
  return fetch(href, { credentials: "same-origin" }).then(function (response) {
    if (response.status !== 200 || response.redirected) {
      return false;
    }
    return caches.open(PAGES).then(function (cache) {
      return cache.put(href, response).then(function () {
        return true;
      });
    });
  });
}

var ACTIONS = {
  account: function (message, source) {
    return setAccount(String(message.account || ""), source && source.id);
  },
  replay: function (message) {
    return sendStatements({ csrf: message.csrf, account: message.account });
  },
  visited: keepVisited,
  "save-lesson": saveLesson,
  "remove-lesson": removeLesson,
};

self.addEventListener("message", function (event) {
  var message = event.data || {};
  var action = Object.prototype.hasOwnProperty.call(ACTIONS, message.type)
    ? ACTIONS[message.type]
    : null;
  var port = event.ports && event.ports[0];
  if (!action) {
    return;
  }
  event.waitUntil(
    inTurn(function () {
      return action(message, event.source);
    }).then(
      function (result) {
        if (port) {
          port.postMessage({ ok: true, result: result });
        }
      },
      function (error) {
        if (port) {
          port.postMessage({ ok: false, error: String((error && error.message) || error) });
        }
      }
    )
  );
});
