// The reading page (libraries/digital/reader.py): EPUB with foliate-js, PDF with pdf.js,
// both from our static files. The book is fetched through one address per file (the
// access-checked `digital_file`, which redirects to a short-lived signed address).

// A book's own scripts never run. foliate-js lays out each chapter in an iframe sandboxed
// with "allow-same-origin allow-scripts" (allow-scripts only for a WebKit event bug); every
// iframe of this page is sandboxed without allow-scripts instead, before the reader is
// loaded. The page's Content-Security-Policy, inherited by the chapters' blob: documents,
// blocks their scripts a second time.
const setAttribute = Element.prototype.setAttribute
Object.defineProperty(HTMLIFrameElement.prototype, 'setAttribute', {
  value (name, value) {
    if (String(name).toLowerCase() === 'sandbox') value = 'allow-same-origin'
    return setAttribute.call(this, name, value)
  },
  writable: false,
  configurable: false,
})

const config = JSON.parse(document.getElementById('reader-config').textContent)
const $ = id => document.getElementById(id)
const root = $('reader')
const storageKey = name => `kb-reader:${name}`

const t = (key, values = {}) => config.strings[key]
  .replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ''))
  .replace(/%%/g, '%')

const remembered = (name, fallback) => {
  try {
    return localStorage.getItem(storageKey(name)) ?? fallback
  } catch {
    return fallback
  }
}
const remember = (name, value) => {
  try {
    localStorage.setItem(storageKey(name), value)
  } catch {
    // Private browsing: settings last for this page only.
  }
}

// ------------------------------------------------------------------ where the reader is

// Offline (a book kept by the installable app), the service worker keeps the last position
// and sends it when the connection returns (202, X-Position-Queued); the page remembers it
// too, so a kept reading page, older than that position, opens at it.
const queuedPosition = () => {
  try {
    return JSON.parse(remembered(`queued:${config.fileId}`, 'null'))
  } catch {
    return null
  }
}

const positions = {
  pending: null,
  timer: null,
  start () {
    const queued = config.positionUrl ? queuedPosition() : null
    if (queued && (!config.position || queued.at > Date.parse(config.position.updated_at))) {
      return queued.locator
    }
    if (config.position) return config.position.locator
    if (config.positionUrl) return null
    return remembered(`position:${config.fileId}`, null)
  },
  save (locator, progress) {
    if (!locator) return
    this.pending = { locator, progress: Math.min(1, Math.max(0, progress || 0)) }
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.flush(), 1200)
  },
  flush (keepalive = false) {
    clearTimeout(this.timer)
    const body = this.pending
    if (!body) return
    this.pending = null
    if (!config.positionUrl) {
      remember(`position:${config.fileId}`, body.locator)
      return
    }
    fetch(config.positionUrl, {
      method: 'POST',
      credentials: 'same-origin',
      keepalive,
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': config.csrfToken },
      body: JSON.stringify(body),
    }).then(response => {
      if (!response.ok) return
      root.dataset.saved = body.locator
      if (response.headers.get('X-Position-Queued')) {
        root.dataset.queued = body.locator
        remember(`queued:${config.fileId}`, JSON.stringify({ locator: body.locator, at: Date.now() }))
      }
    }).catch(() => {
      this.pending ??= body
    })
  },
}
addEventListener('pagehide', () => positions.flush(true))
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') positions.flush(true)
})

// ------------------------------------------------------------------ the tools

const sizes = [80, 90, 100, 110, 125, 140, 160, 180, 200]
const settings = {
  size: Math.max(0, sizes.indexOf(Number(remembered('size', 100)))),
  night: remembered('theme', 'day') === 'night',
}
if (sizes.indexOf(Number(remembered('size', 100))) < 0) settings.size = 2

const panel = $('reader-panel')
const panelButtons = document.querySelectorAll('[data-panel]')
const showPanel = name => {
  const open = name && panel.dataset.open !== name
  panel.hidden = !open
  panel.dataset.open = open ? name : ''
  $('reader-contents').hidden = !open || name !== 'contents'
  $('reader-search').hidden = !open || name !== 'search'
  for (const button of panelButtons) {
    button.setAttribute('aria-expanded', String(open && button.dataset.panel === name))
  }
  if (open && name === 'search') $('reader-search-input').focus()
}
for (const button of panelButtons) {
  button.addEventListener('click', () => showPanel(button.dataset.panel))
}
const closePanelOnPhone = () => {
  if (matchMedia('(max-width: 48rem)').matches) showPanel(null)
}

const message = text => {
  const element = $('reader-message')
  if (element) element.textContent = text
}

const setLocation = text => {
  $('reader-location').textContent = text
}

const tocList = (items, go) => {
  const list = document.createElement('ol')
  for (const item of items) {
    const entry = document.createElement('li')
    const link = document.createElement('a')
    link.href = '#'
    link.textContent = (item.label || '').trim() || '—'
    link.addEventListener('click', event => {
      event.preventDefault()
      closePanelOnPhone()
      go(item)
    })
    entry.append(link)
    if (item.subitems?.length) entry.append(tocList(item.subitems, go))
    list.append(entry)
  }
  return list
}

const showContents = (items, go) => {
  const toc = $('reader-toc')
  if (!items.length) {
    const empty = document.createElement('li')
    empty.textContent = t('noContents')
    toc.replaceChildren(empty)
    return
  }
  toc.replaceChildren(...tocList(items, go).children)
}

const MAX_RESULTS = 100
const searchForm = (run) => {
  let current = 0
  $('reader-search-form').addEventListener('submit', async event => {
    event.preventDefault()
    const query = $('reader-search-input').value.trim()
    if (!query) return
    const run_id = ++current
    const results = $('reader-search-results')
    const status = $('reader-search-status')
    results.replaceChildren()
    status.textContent = t('searching')
    let count = 0
    const add = (label, excerpt, go) => {
      const entry = document.createElement('li')
      const link = document.createElement('a')
      link.href = '#'
      const where = document.createElement('small')
      where.textContent = label
      const before = document.createTextNode(excerpt.pre)
      const match = document.createElement('mark')
      match.textContent = excerpt.match
      const after = document.createTextNode(excerpt.post)
      link.append(where, document.createElement('br'), before, match, after)
      link.addEventListener('click', e => {
        e.preventDefault()
        closePanelOnPhone()
        go()
      })
      entry.append(link)
      results.append(entry)
      count++
      return count < MAX_RESULTS && run_id === current
    }
    const complete = await run(query, add, fraction => {
      if (run_id === current) status.textContent = `${t('searching')} ${Math.round(fraction * 100)}%`
    })
    if (run_id !== current) return
    status.textContent = count === 0
      ? t('notFound')
      : t(complete ? 'found' : 'foundMore', { count })
  })
}

const onKeys = (target, left, right) => target.addEventListener('keydown', event => {
  if (event.target.closest?.('input, textarea, select')) return
  if (event.key === 'ArrowLeft') left()
  else if (event.key === 'ArrowRight') right()
  else return
  event.preventDefault()
})

const themeButton = $('reader-theme')
const showTheme = () => {
  root.classList.toggle('is-night', settings.night)
  themeButton.setAttribute('aria-pressed', String(settings.night))
  themeButton.textContent = settings.night ? t('day') : t('night')
}

const tools = apply => {
  $('reader-smaller').addEventListener('click', () => {
    settings.size = Math.max(0, settings.size - 1)
    remember('size', sizes[settings.size])
    apply()
  })
  $('reader-larger').addEventListener('click', () => {
    settings.size = Math.min(sizes.length - 1, settings.size + 1)
    remember('size', sizes[settings.size])
    apply()
  })
  themeButton.addEventListener('click', () => {
    settings.night = !settings.night
    remember('theme', settings.night ? 'night' : 'day')
    showTheme()
    apply()
  })
  showTheme()
}

// ------------------------------------------------------------------ EPUB (foliate-js)

const NIGHT_CSS = `
html { color-scheme: dark; }
html, body { background: #121212 !important; color: #e6e3df !important; }
body * { color: inherit !important; background-color: transparent !important; }
a:link, a:visited, a * { color: #9ecbff !important; }
img, svg { filter: brightness(.85); }`

const bookCss = () => `
html { font-size: ${sizes[settings.size]}% !important; }
p, li, blockquote, dd { line-height: 1.5; }
${settings.night ? NIGHT_CSS : ''}`

const safeLink = href => {
  try {
    const url = new URL(href)
    if (url.protocol === 'https:' || url.protocol === 'http:') {
      window.open(url.href, '_blank', 'noopener,noreferrer')
    }
  } catch {
    // Not an address: nothing to open.
  }
}

async function openEpub (blob) {
  await import(config.foliate)
  const view = document.createElement('foliate-view')
  view.id = 'reader-book'
  $('reader-view').replaceChildren(view)
  await view.open(new File([blob], 'book.epub', { type: 'application/epub+zip' }))
  const { book } = view
  const direction = book.dir === 'rtl' ? 'rtl' : 'ltr'
  root.dataset.direction = direction
  root.querySelector('.reader-nav').dir = direction
  view.renderer.setAttribute('max-inline-size', '42em')
  view.renderer.setAttribute('margin', '32px')

  const apply = () => view.renderer.setStyles?.(bookCss())
  tools(apply)
  apply()

  view.addEventListener('relocate', event => {
    const { fraction, cfi, tocItem } = event.detail
    const percent = Math.round((fraction ?? 0) * 100)
    setLocation([t('progress', { percent }), tocItem?.label?.trim()].filter(Boolean).join(' · '))
    root.dataset.fraction = String(fraction ?? 0)
    positions.save(cfi, fraction)
  })
  view.addEventListener('external-link', event => {
    event.preventDefault()
    safeLink(event.detail.href)
  })
  view.addEventListener('load', event => {
    onKeys(event.detail.doc, () => view.goLeft(), () => view.goRight())
  })
  onKeys(document, () => view.goLeft(), () => view.goRight())
  $('reader-prev').addEventListener('click', () => view.prev())
  $('reader-next').addEventListener('click', () => view.next())

  showContents(book.toc ?? [], item => view.goTo(item.href))
  searchForm(async (query, add, progress) => {
    for await (const result of view.search({ query, matchCase: false, matchDiacritics: false })) {
      if (result === 'done') return true
      if (result.progress != null) progress(result.progress)
      for (const item of result.subitems ?? []) {
        if (!add(result.label || '', item.excerpt, () => view.goTo(item.cfi))) {
          return false
        }
      }
    }
    return true
  })

  await view.init({ lastLocation: positions.start() })
  root.dataset.state = 'ready'
}

// ------------------------------------------------------------------ PDF (pdf.js)

const fold = text => text.normalize('NFD').replace(/\p{M}/gu, '')
  .replace(/[đĐ]/g, 'd').toLocaleLowerCase()

// The text folded for searching, and for each folded character its place in the text.
const folded = text => {
  let out = ''
  const places = []
  for (let i = 0; i < text.length; i++) {
    const piece = fold(text[i])
    out += piece
    for (let j = 0; j < piece.length; j++) places.push(i)
  }
  places.push(text.length)
  return [out, places]
}

async function openPdf (blob) {
  const pdfjs = await import(config.pdfjs)
  pdfjs.GlobalWorkerOptions.workerSrc = config.pdfWorker
  const pdf = await pdfjs.getDocument({
    data: new Uint8Array(await blob.arrayBuffer()),
    isEvalSupported: false,
    enableXfa: false,
    standardFontDataUrl: config.pdfFonts,
    cMapUrl: config.pdfCmaps,
    cMapPacked: true,
    wasmUrl: config.pdfWasm,
  }).promise
  const pages = pdf.numPages
  root.dataset.pages = String(pages)

  const sheet = document.createElement('div')
  sheet.className = 'pdf-page'
  const canvas = document.createElement('canvas')
  canvas.id = 'reader-canvas'
  sheet.append(canvas)
  const container = $('reader-view')
  container.replaceChildren(sheet)

  let current = 1
  let task = null
  const render = async number => {
    current = Math.min(pages, Math.max(1, number))
    task?.cancel()
    const page = await pdf.getPage(current)
    const base = page.getViewport({ scale: 1 })
    const width = Math.max(200, container.clientWidth - 16)
    const scale = (width / base.width) * (sizes[settings.size] / 100)
    const viewport = page.getViewport({ scale })
    const ratio = window.devicePixelRatio || 1
    canvas.width = Math.floor(viewport.width * ratio)
    canvas.height = Math.floor(viewport.height * ratio)
    canvas.style.width = `${Math.floor(viewport.width)}px`
    canvas.style.height = `${Math.floor(viewport.height)}px`
    task = page.render({
      canvas,
      viewport,
      transform: ratio === 1 ? null : [ratio, 0, 0, ratio, 0, 0],
    })
    try {
      await task.promise
    } catch (error) {
      if (error?.name !== 'RenderingCancelledException') throw error
      return
    }
    root.dataset.page = String(current)
    setLocation(t('page', { page: current, pages }))
    positions.save(`page:${current}`, pages > 1 ? (current - 1) / (pages - 1) : 1)
    container.scrollTop = 0
  }

  tools(() => render(current))
  $('reader-prev').addEventListener('click', () => render(current - 1))
  $('reader-next').addEventListener('click', () => render(current + 1))
  onKeys(document, () => render(current - 1), () => render(current + 1))

  const pageOf = async dest => {
    const explicit = typeof dest === 'string' ? await pdf.getDestination(dest) : dest
    if (!Array.isArray(explicit)) return null
    return typeof explicit[0] === 'number'
      ? explicit[0] + 1
      : (await pdf.getPageIndex(explicit[0])) + 1
  }
  const toOutline = items => (items ?? []).map(item => ({
    label: item.title,
    dest: item.dest,
    subitems: toOutline(item.items),
  }))
  showContents(toOutline(await pdf.getOutline()), async item => {
    const number = await pageOf(item.dest).catch(() => null)
    if (number) render(number)
  })

  searchForm(async (query, add, progress) => {
    const needle = fold(query)
    for (let number = 1; number <= pages; number++) {
      const content = await (await pdf.getPage(number)).getTextContent()
      const text = content.items.map(item => item.str + (item.hasEOL ? ' ' : '')).join('')
      const [haystack, places] = folded(text)
      let at = haystack.indexOf(needle)
      while (at > -1) {
        const start = places[at]
        const end = places[at + needle.length]
        const excerpt = {
          pre: (start > 50 ? '…' : '') + text.slice(Math.max(0, start - 50), start),
          match: text.slice(start, end),
          post: text.slice(end, end + 50) + (end + 50 < text.length ? '…' : ''),
        }
        const label = t('page', { page: number, pages })
        if (!add(label, excerpt, () => render(number))) return false
        at = haystack.indexOf(needle, at + needle.length)
      }
      progress(number / pages)
    }
    return true
  })

  const start = /^page:(\d+)$/.exec(positions.start() ?? '')
  await render(start ? Number(start[1]) : 1)
  root.dataset.state = 'ready'
}

// ------------------------------------------------------------------ opening the book

async function open () {
  message(t('loading'))
  try {
    const response = await fetch(config.bookUrl, { credentials: 'same-origin' })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    const blob = await response.blob()
    if (config.kind === 'pdf') await openPdf(blob)
    else await openEpub(blob)
  } catch (error) {
    console.error(error)
    root.dataset.state = 'failed'
    message(t('failed'))
    const view = $('reader-view')
    if (!$('reader-message')) {
      const p = document.createElement('p')
      p.className = 'reader-message'
      p.textContent = t('failed')
      view.replaceChildren(p)
    }
  }
}

open()
