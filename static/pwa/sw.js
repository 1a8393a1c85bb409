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
 *   books kept offline     "Keep for offline reading" (static/reader/offline.js): the reading
 *                          page, the reader's files and the book's bytes, the bytes under the
 *                          book's own address (/digital/<id>/file/, checked by the server at
 *                          every request), never the signed one; only what the server lets
 *                          this account keep (libraries/digital/offline.py). A lent book's
 *                          copy goes when the server stops listing it (a loan returned or
 *                          ended: checked on each start online and on /my/loans/), when the
 *                          server refuses it, or offline once the loan's end has passed.
 *   reading positions      saved while offline are kept (the last one per book) and sent
 *                          when the connection returns
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
// A kept book's record (in OFFLINE, + the file's id) and a reading position waiting to be sent
// (in STATE, + the file's id). static/reader/offline.js reads the book records too.
var BOOK_KEY = self.location.origin + "/pwa-state/book/";
var POSITION_KEY = self.location.origin + "/pwa-state/position/";
var BOOKS = CONFIG.books;
var BOOK_FILE = new RegExp(BOOKS.file);
var BOOK_PAGE = new RegExp(BOOKS.page);
var BOOK_POSITION = new RegExp(BOOKS.position);
var BOOK_TYPES = ["application/epub+zip", "application/pdf"];
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

// What one account saw: kept pages, saved lessons (their pages show the learner's progress),
// kept books and the reading positions not sent yet.
function clearPersonal() {
  return Promise.all([
    pagesExpiration.deleteCacheAndMetadata(),
    caches.delete(OFFLINE),
    dropPositions(),
  ]);
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

// A kept book's reading page: refreshed when read online; a refusal (the loan has ended, the
// file is gone) drops the book from this device.
var bookPages = new strategies.NetworkFirst({
  cacheName: OFFLINE,
  networkTimeoutSeconds: CONFIG.networkTimeout,
  matchOptions: MATCH,
  plugins: [notRedirected(), onlyIfSaved(), servedFromCache(), bookRefusals()],
});

routing.registerRoute(
  function (context) {
    return isPage(context) && BOOK_PAGE.test(context.url.pathname);
  },
  function (context) {
    var id = context.event && context.event.resultingClientId;
    if (id) {
      freshClients.add(id);
    }
    return bookPages.handle(context);
  }
);

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

// ---- books kept for offline reading -------------------------------------------------------

function bookIdOf(path) {
  return String(Number(/\d+/.exec(path)[0]));
}

function refused(response) {
  return response.status === 403 || response.status === 404 || response.status === 410;
}

// A login page in place of the reading page (a session ended) is never kept as the book's.
function notRedirected() {
  return {
    cacheWillUpdate: function (context) {
      return context.response && !context.response.redirected ? context.response : null;
    },
  };
}

function bookRefusals() {
  return {
    fetchDidSucceed: function (context) {
      var response = context.response;
      if (!refused(response)) {
        return response;
      }
      var id = bookIdOf(new URL(context.request.url).pathname);
      return inTurn(function () {
        return removeBook({ book: id });
      }).then(function () {
        return response;
      });
    },
  };
}

function jsonResponse(data) {
  return new Response(JSON.stringify(data), { headers: { "Content-Type": "application/json" } });
}

function bookType(response) {
  var type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
  return BOOK_TYPES.indexOf(type) !== -1 ? type : "";
}

function bookRecord(cache, id) {
  return cache.match(BOOK_KEY + id).then(function (response) {
    return response ? response.json() : null;
  });
}

function bookRecords(cache) {
  return cache.keys().then(function (requests) {
    return Promise.all(
      requests
        .filter(function (request) {
          return request.url.indexOf(BOOK_KEY) === 0;
        })
        .map(function (request) {
          return cache.match(request).then(function (response) {
            return response.json();
          });
        })
    );
  });
}

function ended(record) {
  return Boolean(record && record.until && Date.parse(record.until) <= Date.now());
}

// The copy of a kept book, offline; none once its loan's end has passed (then it goes).
function keptCopy(id, key) {
  return caches.has(OFFLINE).then(function (present) {
    if (!present) {
      return null;
    }
    return caches.open(OFFLINE).then(function (cache) {
      return bookRecord(cache, id).then(function (record) {
        if (!record) {
          return null;
        }
        if (ended(record)) {
          return inTurn(function () {
            return removeBook({ book: id });
          }).then(function () {
            return null;
          });
        }
        return cache.match(key, MATCH);
      });
    });
  });
}

// /digital/<id>/file/: the server first (it checks the right to read and sends the bytes
// through a short-lived signed address); offline, the kept copy. A refusal drops the copy.
function bookFile(context) {
  var request = context.request;
  var url = new URL(request.url);
  if (url.search) {
    return fetch(request); // a download (?download=1) is never served from the copy
  }
  var id = bookIdOf(url.pathname);
  return fetch(request).then(
    function (response) {
      if (!refused(response)) {
        return response;
      }
      return inTurn(function () {
        return removeBook({ book: id });
      }).then(function () {
        return response;
      });
    },
    function (error) {
      return keptCopy(id, url.origin + url.pathname).then(function (copy) {
        if (!copy) {
          throw error;
        }
        return copy;
      });
    }
  );
}

routing.registerRoute(function (context) {
  return sameOrigin(context.url) && BOOK_FILE.test(context.url.pathname);
}, bookFile);

// The book's bytes, fetched through its own address (which redirects to the signed one) and
// kept under that address, without the redirect; only a book, never a refusal or a page.
function fetchBook(url, retried) {
  return fetch(url, { credentials: "same-origin" }).then(
    function (response) {
      var type = bookType(response);
      if (!response.ok || !type) {
        throw new Error("the book could not be fetched");
      }
      return response.blob().then(function (blob) {
        return new Response(blob, {
          status: 200,
          headers: { "Content-Type": type, "X-Content-Type-Options": "nosniff" },
        });
      });
    },
    function (error) {
      if (retried) {
        throw error;
      }
      return fetchBook(url, true);
    }
  );
}

function keepBook(message) {
  return fetchListing(message, "this book may not be kept on this device").then(function (book) {
    var page = localUrl(book.page);
    var bookUrl = localUrl(book.book);
    var files = unique(
      [page, bookUrl].concat(book.files.concat(message.extra || []).map(localUrl))
    );
    var record = {
      book: String(book.file),
      title: book.title,
      kind: book.kind,
      url: page,
      until: book.until,
      files: files,
    };
    return caches.open(OFFLINE).then(function (cache) {
      var keeping = fetchBook(bookUrl)
        .then(function (copy) {
          return cache.put(bookUrl, copy);
        })
        .then(function () {
          return keepAll(
            cache,
            files.filter(function (url) {
              return url !== bookUrl;
            })
          );
        });
      return recordKept(cache, keeping, BOOK_KEY + record.book, record);
    });
  });
}

function removeBook(message) {
  return caches.has(OFFLINE).then(function (present) {
    if (!present) {
      return undefined;
    }
    return caches.open(OFFLINE).then(function (cache) {
      return cache.delete(BOOK_KEY + String(message.book)).then(function (deleted) {
        return deleted ? prune(cache) : undefined;
      });
    });
  });
}

var CHECK_EVERY = 60 * 1000;
var lastCheck = 0;

// Ask the server which kept books this account may still keep; drop the others. The request
// runs outside the worker's turn (a slow link holds nothing up); the changes in it.
function checkBooks(force) {
  if (!force && Date.now() - lastCheck < CHECK_EVERY) {
    return Promise.resolve(null);
  }
  return caches.has(OFFLINE).then(function (present) {
    if (!present) {
      return null;
    }
    return caches
      .open(OFFLINE)
      .then(bookRecords)
      .then(function (records) {
        if (!records.length) {
          return null;
        }
        lastCheck = Date.now();
        var ids = records.map(function (record) {
          return record.book;
        });
        return fetchInTime(BOOKS.list + "?ids=" + ids.join(","), {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        }).then(
          function (response) {
            if (!response.ok || response.redirected) {
              return null;
            }
            return response.json().then(function (answer) {
              return inTurn(function () {
                return applyCheck(answer, ids);
              });
            });
          },
          function () {
            return null;
          }
        );
      });
  });
}

function fetchInTime(url, options) {
  var controller = new AbortController();
  var timer = setTimeout(function () {
    controller.abort();
  }, CONFIG.networkTimeout * 2000);
  return fetch(url, Object.assign({ signal: controller.signal }, options)).then(
    function (response) {
      clearTimeout(timer);
      return response;
    },
    function (error) {
      clearTimeout(timer);
      throw error;
    }
  );
}

// The server's answer applied to the records kept now (one may have been kept meanwhile).
function applyCheck(answer, asked) {
  var allowed = {};
  answer.files.forEach(function (entry) {
    allowed[String(entry.id)] = entry;
  });
  return caches.has(OFFLINE).then(function (present) {
    if (!present) {
      return null;
    }
    return caches.open(OFFLINE).then(function (cache) {
      return bookRecords(cache).then(function (records) {
        var gone = records.filter(function (record) {
          return asked.indexOf(record.book) !== -1 && !allowed[record.book];
        });
        var work = records
          .filter(function (record) {
            return allowed[record.book] && allowed[record.book].until !== record.until;
          })
          .map(function (record) {
            record.until = allowed[record.book].until;
            return cache.put(BOOK_KEY + record.book, jsonResponse(record));
          });
        work = work.concat(
          gone.map(function (record) {
            return cache.delete(BOOK_KEY + record.book);
          })
        );
        return Promise.all(work)
          .then(function () {
            return gone.length ? prune(cache) : undefined;
          })
          .then(function () {
            return {
              dropped: gone.map(function (record) {
                return record.book;
              }),
            };
          });
      });
    });
  });
}

// ---- reading positions saved offline -----------------------------------------------------

function postPosition(options) {
  var request = options.request;
  var copy = request.clone();
  return fetch(request).catch(function () {
    var id = bookIdOf(new URL(request.url).pathname);
    return copy
      .text()
      .then(function (body) {
        return inTurn(function () {
          return storedAccount().then(function (account) {
            return caches.open(STATE).then(function (cache) {
              // The last place in each book is what counts: one entry per book.
              return cache.put(
                POSITION_KEY + id,
                jsonResponse({ url: request.url, body: body, account: account })
              );
            });
          });
        });
      })
      .then(function () {
        return new Response(JSON.stringify({ queued: true }), {
          status: 202,
          headers: { "Content-Type": "application/json", "X-Position-Queued": "1" },
        });
      });
  });
}

routing.registerRoute(
  function (context) {
    return sameOrigin(context.url) && BOOK_POSITION.test(context.url.pathname);
  },
  postPosition,
  "POST"
);

function positionKeys(cache) {
  return cache.keys().then(function (requests) {
    return requests.filter(function (request) {
      return request.url.indexOf(POSITION_KEY) === 0;
    });
  });
}

function dropPositions() {
  return caches.open(STATE).then(function (cache) {
    return positionKeys(cache).then(function (keys) {
      return Promise.all(
        keys.map(function (key) {
          return cache.delete(key);
        })
      );
    });
  });
}

/*
 * Send the positions kept offline, with the CSRF token of a page of their account (none: they
 * wait). Another account's are dropped. Stored or refused for good (a JSON answer: the loan
 * has ended, say): the entry ends; a network failure, a server error or a CSRF refusal (an
 * HTML page) keeps it for the next time.
 */
function sendPositions(options) {
  return storedAccount().then(function (stored) {
    var token = options.csrf && stored && options.account === stored ? options.csrf : "";
    return caches.open(STATE).then(function (cache) {
      return positionKeys(cache).then(function (keys) {
        var sent = 0;
        return keys
          .reduce(function (done, key) {
            return done.then(function () {
              return cache
                .match(key)
                .then(function (response) {
                  return response.json();
                })
                .then(function (entry) {
                  var owner = entry.account || "";
                  if (owner && owner !== stored) {
                    return cache.delete(key);
                  }
                  if (!token) {
                    return undefined;
                  }
                  return fetch(entry.url, {
                    method: "POST",
                    credentials: "same-origin",
                    headers: { "Content-Type": "application/json", "X-CSRFToken": token },
                    body: entry.body,
                  }).then(
                    function (response) {
                      var json = /json/.test(response.headers.get("Content-Type") || "");
                      if (response.ok || (response.status < 500 && json)) {
                        sent += response.ok ? 1 : 0;
                        return cache.delete(key);
                      }
                      return undefined;
                    },
                    function () {
                      return undefined;
                    }
                  );
                });
            });
          }, Promise.resolve())
          .then(function () {
            return sent;
          });
      });
    });
  });
}

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

// The server's list of what to keep of a lesson or book (message.files, a local URL); a
// refusal (a redirect to the login page, 403, 404) rejects with `refusal`.
function fetchListing(message, refusal) {
  var listing = localUrl(message.files);
  if (!listing) {
    return Promise.reject(new Error("no list of files"));
  }
  return fetch(listing, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok || response.redirected) {
        throw new Error(refusal);
      }
      return response.json();
    });
}

// Once `keeping` (the files fetched into `cache`) succeeds, record the lesson or book under
// `key`; if anything fails, drop the files no saved record lists.
function recordKept(cache, keeping, key, record) {
  return keeping
    .then(function () {
      return cache.put(key, jsonResponse(record));
    })
    .then(
      function () {
        return { files: record.files.length };
      },
      function (error) {
        return prune(cache).then(function () {
          throw error;
        });
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

function isRecordKey(url) {
  return url.indexOf(LESSON_KEY) === 0 || url.indexOf(BOOK_KEY) === 0;
}

// Saved lessons and kept books: each lists its files.
function savedRecords(cache) {
  return cache.keys().then(function (requests) {
    return Promise.all(
      requests
        .filter(function (request) {
          return isRecordKey(request.url);
        })
        .map(function (request) {
          return cache.match(request).then(function (response) {
            return response.json();
          });
        })
    );
  });
}

// Remove the files no saved lesson or kept book lists any more (libraries are shared between
// lessons, the reader's files between books).
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
            return !isRecordKey(request.url) && !used.has(request.url);
          })
          .map(function (request) {
            return cache.delete(request);
          })
      );
    });
  });
}

function saveLesson(message) {
  return fetchListing(message, "the lesson's files could not be listed").then(function (lesson) {
    var files = unique(lesson.files.concat(message.extra || []).map(localUrl));
    var record = {
      lesson: lesson.lesson,
      title: lesson.title,
      url: localUrl(lesson.url),
      files: files,
    };
    return caches.open(OFFLINE).then(function (cache) {
      return recordKept(cache, keepAll(cache, files), LESSON_KEY + lesson.lesson, record);
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

function online() {
  return self.navigator.onLine !== false;
}

var ACTIONS = {
  account: function (message, source) {
    return setAccount(String(message.account || ""), source && source.id);
  },
  replay: function (message) {
    var options = { csrf: message.csrf, account: message.account };
    function positions() {
      return sendPositions(options).catch(function () {});
    }
    return sendStatements(options).then(
      function (sent) {
        return positions().then(function () {
          return sent;
        });
      },
      function (error) {
        return positions().then(function () {
          throw error;
        });
      }
    );
  },
  visited: keepVisited,
  "save-lesson": saveLesson,
  "remove-lesson": removeLesson,
  "keep-book": keepBook,
  "remove-book": removeBook,
  "check-books": function () {
    return checkBooks(true);
  },
};
// Actions that take their turn only for the changes they make (they wait on the network).
var OUT_OF_TURN = ["check-books"];

self.addEventListener("message", function (event) {
  var message = event.data || {};
  var action = Object.prototype.hasOwnProperty.call(ACTIONS, message.type)
    ? ACTIONS[message.type]
    : null;
  var port = event.ports && event.ports[0];
  if (!action) {
    return;
  }
  var work =
    OUT_OF_TURN.indexOf(message.type) !== -1
      ? action(message, event.source)
      : inTurn(function () {
          return action(message, event.source);
        });
  if (message.type === "account") {
    // A start online: the kept books this account may no longer keep go (once a minute).
    work = work.then(function (changed) {
      return (online() ? checkBooks(false) : Promise.resolve()).then(
        function () {
          return changed;
        },
        function () {
          return changed;
        }
      );
    });
  }
  event.waitUntil(
    work.then(
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
