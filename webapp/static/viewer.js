/* The document page's PDF viewer: pdf.js (vendored in static/vendor/pdfjs/) renders one page at a time
   on a canvas with a text layer over it, opens at the requested page, highlights the query's words and
   steps through them ("match k of n") across the pages that matched.

   Everything it needs comes from the #pdf-viewer element that documents/show.html renders:
     data-pdf-url, data-page, data-lang, data-query,
     data-terms          JSON list of the strings the server highlighted in this file's text (the
                         document's own spelling: traditional/simplified folding happened server-side),
     data-matched-pages  JSON list of the pages that matched the query,
     data-pdfjs-url, data-pdfjs-worker-url, data-pdfjs-base   where pdf.js, its worker and its CMaps,
                         standard fonts and decoders are (from url_for, so a URL prefix is kept);
   and the labels are in the <template class="viewer-ui"> it holds, already in the interface language.
   Without JavaScript (or if pdf.js fails) the page keeps its link to the PDF and the page texts below.
   An ES module, loaded on the document page only; no inline code or styles (CSP). */

const MAX_HIT_PAGES = 500;        // pages scanned for matches to count them (text only, no rendering)
const ZOOM_STEPS = [0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3];
const RESIZE_DELAY_MS = 150;
// Letters and digits of alphabetic scripts: a Latin term must not start or end inside a word.
const WORD_CHAR = "[\\p{Script=Latin}\\p{Script=Greek}\\p{Script=Cyrillic}\\p{Nd}]";
// Characters between which a text layer may put spaces that the indexed text does not have.
const CJK = /[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60]/u;

function parseJson(text, fallback) {
  try {
    const value = JSON.parse(text || "");
    return value === null || value === undefined ? fallback : value;
  } catch (error) {
    return fallback;
  }
}

function fill(template, values) {
  return (template || "").replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/* --- matching the terms in a page's text content ------------------------------------------- */

/* The page's text as one string, normalised like the indexed text (NFKC, one space for any run of
   white space, line ends as spaces, "regio-" + line end + "nal" joined), with the source of every
   UTF-16 unit: [item index, start, end] in that item's string, or null for an added space. */
function pageHaystack(items) {
  const units = [];
  const sources = [];
  const push = (text, source) => {
    for (let k = 0; k < text.length; k++) { units.push(text[k]); sources.push(source); }
  };
  const pushSpace = () => {
    if (units.length && units[units.length - 1] !== " ") { push(" ", null); }
  };
  items.forEach((item, index) => {
    let offset = 0;
    for (const ch of item.str) {
      const source = [index, offset, offset + ch.length];
      offset += ch.length;
      if (/\s/u.test(ch)) { pushSpace(); continue; }
      push(ch.normalize("NFKC"), source);
    }
    if (item.hasEOL) {
      const n = units.length;
      // A lower-case word broken by a hyphen at the line end is one word in the index.
      if (n >= 2 && units[n - 1] === "-" && /\p{Ll}/u.test(units[n - 2])) {
        units[n - 1] = "\u00ad";   // a soft hyphen: the matcher skips it, the highlight keeps it
      } else {
        pushSpace();
      }
    }
  });
  return {text: units.join(""), sources};
}

/* One regular expression for all the terms, longest first (so "区域政策" wins over "区域"). */
function termsPattern(terms) {
  const parts = [];
  for (const raw of terms) {
    const term = String(raw).normalize("NFKC").replace(/\s+/gu, " ").trim();
    if (!term) { continue; }
    const chars = Array.from(term);
    let body = "";
    chars.forEach((ch, i) => {
      if (i > 0) {
        // Chinese characters may be spaced out in the PDF; a hyphenated line end may split a word.
        body += CJK.test(chars[i - 1]) && CJK.test(ch) ? " ?" : "\u00ad?";
      }
      body += ch === " " ? " " : escapeRegExp(ch);
    });
    const before = new RegExp(`^${WORD_CHAR}`, "u").test(chars[0]) ? `(?<!${WORD_CHAR})` : "";
    const after = new RegExp(`${WORD_CHAR}$`, "u").test(chars[chars.length - 1]) ? `(?!${WORD_CHAR})` : "";
    parts.push({length: chars.length, source: before + body + after});
  }
  if (!parts.length) { return null; }
  parts.sort((a, b) => b.length - a.length);
  return new RegExp(parts.map((p) => p.source).join("|"), "giu");
}

/* The matches on one page: for each, the [item, start, end] pieces of the text items it covers. */
function findMatches(items, pattern) {
  if (!pattern) { return []; }
  const {text, sources} = pageHaystack(items);
  const matches = [];
  pattern.lastIndex = 0;
  let m;
  while ((m = pattern.exec(text)) !== null) {
    if (m[0].length === 0) { pattern.lastIndex++; continue; }
    const covered = sources.slice(m.index, m.index + m[0].length).filter(Boolean);
    if (!covered.length) { continue; }
    const first = covered[0];
    const last = covered[covered.length - 1];
    const pieces = [];
    for (let item = first[0]; item <= last[0]; item++) {
      const start = item === first[0] ? first[1] : 0;
      const end = item === last[0] ? last[2] : items[item].str.length;
      if (end > start) { pieces.push([item, start, end]); }
    }
    matches.push(pieces);
  }
  return matches;
}

/* Wrap the matched pieces of the text layer's spans in <span class="highlight" data-hit="i">. */
function highlightSpans(textDivs, matches) {
  const byDiv = new Map();
  matches.forEach((pieces, hit) => {
    for (const [item, start, end] of pieces) {
      if (!byDiv.has(item)) { byDiv.set(item, []); }
      byDiv.get(item).push({start, end, hit});
    }
  });
  for (const [item, ranges] of byDiv) {
    const div = textDivs[item];
    if (!div) { continue; }
    const text = div.textContent;
    ranges.sort((a, b) => a.start - b.start);
    const parts = [];
    let pos = 0;
    for (const {start, end, hit} of ranges) {
      if (start < pos) { continue; }
      if (start > pos) { parts.push(document.createTextNode(text.slice(pos, start))); }
      const span = document.createElement("span");
      span.className = "highlight";
      span.dataset.hit = String(hit);
      span.textContent = text.slice(start, end);
      parts.push(span);
      pos = end;
    }
    if (pos < text.length) { parts.push(document.createTextNode(text.slice(pos))); }
    div.replaceChildren(...parts);
  }
}

/* --- the viewer ----------------------------------------------------------------------------- */

class Viewer {
  constructor(root) {
    this.root = root;
    const data = root.dataset;
    this.pdfUrl = data.pdfUrl;
    this.terms = parseJson(data.terms, []).filter((t) => typeof t === "string" && t.trim());
    this.matchedPages = parseJson(data.matchedPages, []).filter(Number.isInteger);
    this.requestedPage = Math.max(1, parseInt(data.page, 10) || 1);
    const base = new URL(data.pdfjsBase, document.baseURI).href;
    this.assets = {
      library: new URL(data.pdfjsUrl, document.baseURI).href,
      worker: new URL(data.pdfjsWorkerUrl, document.baseURI).href,
      cMapUrl: `${base}cmaps/`,
      standardFontDataUrl: `${base}standard_fonts/`,
      wasmUrl: `${base}wasm/`,
    };
    this.pattern = termsPattern(this.terms);
    this.pdf = null;
    this.pdfjs = null;
    this.pageNum = 0;        // the page shown
    this.wantedPage = 0;     // the page asked for (shown once its rendering is done)
    this.zoom = ZOOM_STEPS.indexOf(1);
    this.hits = [];          // [{page, index}] in reading order
    this.current = -1;       // index into this.hits of the selected match
    this.texts = new Map();  // page number -> Promise of its text content
    this.renderTask = null;
    this.textLayer = null;
    this.generation = 0;     // a newer render makes older ones stop
  }

  mount() {
    const template = this.root.querySelector("template.viewer-ui");
    if (!template) { return false; }
    this.root.append(template.content.cloneNode(true));
    const $ = (selector) => this.root.querySelector(selector);
    this.ui = {
      fallback: $(".viewer-fallback a"),
      message: $(".viewer-message"),
      stage: $(".viewer-stage"),
      page: $(".viewer-page"),
      canvas: $(".viewer-canvas"),
      textLayer: $(".textLayer"),
      pageInput: $(".viewer-page-input"),
      pageCount: $(".viewer-page-count"),
      hitStatus: $(".viewer-hit-status"),
      buttons: {},
    };
    for (const button of this.root.querySelectorAll("button[data-action]")) {
      this.ui.buttons[button.dataset.action] = button;
      button.disabled = true;
    }
    this.ui.pageInput.disabled = true;
    this.root.classList.add("is-mounted");
    this.showMessage(this.ui.message.dataset.loading);
    this.bindEvents();
    return true;
  }

  bindEvents() {
    const {buttons, pageInput, stage} = this.ui;
    const on = (name, handler) => { if (buttons[name]) { buttons[name].addEventListener("click", handler); } };
    on("prev-page", () => this.goToPage(this.pageNum - 1));
    on("next-page", () => this.goToPage(this.pageNum + 1));
    on("prev-hit", () => this.stepHit(-1));
    on("next-hit", () => this.stepHit(1));
    on("zoom-out", () => this.setZoom(this.zoom - 1));
    on("zoom-in", () => this.setZoom(this.zoom + 1));
    pageInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.goToTypedPage();
      } else if (event.key === "Escape") {
        pageInput.value = String(this.pageNum);
      }
    });
    pageInput.addEventListener("change", () => this.goToTypedPage());
    // Keys on the page itself: PageUp/PageDown turn pages once the page is scrolled to its end;
    // n and p (or shift+n) step through the matches.
    stage.addEventListener("keydown", (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey) { return; }
      const atTop = stage.scrollTop <= 0;
      const atBottom = stage.scrollTop + stage.clientHeight >= stage.scrollHeight - 1;
      if (event.key === "PageDown" && atBottom && this.pageNum < this.pdf?.numPages) {
        event.preventDefault();
        this.goToPage(this.pageNum + 1);
      } else if (event.key === "PageUp" && atTop && this.pageNum > 1) {
        event.preventDefault();
        this.goToPage(this.pageNum - 1, {toBottom: true});
      } else if ((event.key === "n" || event.key === "p" || event.key === "N") && this.hits.length) {
        event.preventDefault();
        this.stepHit(event.key === "n" ? 1 : -1);
      }
    });
    if (window.ResizeObserver) {
      let width = 0;
      let timer = null;
      new ResizeObserver((entries) => {
        const w = Math.round(entries[0].contentRect.width);
        const changed = Math.abs(w - width) >= 2;
        width = w;
        if (!this.pdf || !this.pageNum || !changed) { return; }
        clearTimeout(timer);
        timer = setTimeout(() => this.render(this.wantedPage), RESIZE_DELAY_MS);
      }).observe(stage);
    }
  }

  async open() {
    this.pdfjs = await import(this.assets.library);
    this.pdfjs.GlobalWorkerOptions.workerSrc = this.assets.worker;
    const task = this.pdfjs.getDocument({
      url: new URL(this.pdfUrl, document.baseURI).href,
      cMapUrl: this.assets.cMapUrl,
      cMapPacked: true,
      standardFontDataUrl: this.assets.standardFontDataUrl,
      wasmUrl: this.assets.wasmUrl,
      // The WebAssembly decoders would need 'wasm-unsafe-eval' in the CSP: use their JavaScript builds.
      useWasm: false,
      enableXfa: false,
    });
    this.pdf = await task.promise;
    this.ui.pageCount.textContent = fill(this.ui.pageCount.dataset.template, {n: this.pdf.numPages});
    this.ui.pageInput.disabled = false;
    for (const name of ["zoom-in", "zoom-out"]) {
      if (this.ui.buttons[name]) { this.ui.buttons[name].disabled = false; }
    }
    const start = Math.min(this.requestedPage, this.pdf.numPages);
    // The page first (with its highlights), then the count of the matches on the other pages.
    await this.render(start);
    this.showMessage("");
    await this.countHits(start);
    // Open at the first match on the requested page, if it has one.
    const first = this.hits.findIndex((h) => h.page === start);
    if (first >= 0) {
      await this.select(first, {scroll: true, instant: true});
    } else {
      this.updateHitStatus();
      if (/^#page-\d+$/.test(window.location.hash)) { this.root.scrollIntoView({block: "start"}); }
    }
  }

  textContent(pageNum) {
    if (!this.texts.has(pageNum)) {
      this.texts.set(pageNum, this.pdf.getPage(pageNum).then((page) => page.getTextContent()));
    }
    return this.texts.get(pageNum);
  }

  /* Find the matches of the matched pages (and of the page opened) from their text, without rendering. */
  async countHits(start) {
    if (!this.pattern) { return; }
    const pages = [...new Set([...this.matchedPages, start])]
      .filter((n) => n >= 1 && n <= this.pdf.numPages)
      .sort((a, b) => a - b)
      .slice(0, MAX_HIT_PAGES);
    const counts = await Promise.all(pages.map(async (n) => {
      try {
        return findMatches((await this.textContent(n)).items.filter((i) => i.str !== undefined), this.pattern).length;
      } catch (error) {
        return 0;
      }
    }));
    this.hits = [];
    pages.forEach((page, i) => {
      for (let index = 0; index < counts[i]; index++) { this.hits.push({page, index}); }
    });
  }

  /* Render page PAGENUM; true once it is shown, false if a newer rendering took over. */
  async render(pageNum, {toBottom = false} = {}) {
    if (!this.pdf || pageNum < 1 || pageNum > this.pdf.numPages) { return false; }
    this.wantedPage = pageNum;
    const generation = ++this.generation;
    const {stage, page: pageBox} = this.ui;
    stage.setAttribute("aria-busy", "true");
    if (this.renderTask) { this.renderTask.cancel(); this.renderTask = null; }
    if (this.textLayer) { this.textLayer.cancel(); this.textLayer = null; }
    try {
      const page = await this.pdf.getPage(pageNum);
      const text = await this.textContent(pageNum);
      if (generation !== this.generation) { return false; }
      const unscaled = page.getViewport({scale: 1});
      const styles = getComputedStyle(stage);
      const available = stage.clientWidth - parseFloat(styles.paddingLeft) - parseFloat(styles.paddingRight);
      const fit = Math.max(available, 200) / unscaled.width;
      const scale = fit * ZOOM_STEPS[this.zoom];
      const viewport = page.getViewport({scale});
      const ratio = window.devicePixelRatio || 1;
      // The canvas gets device pixels (sharp on high-density screens); the box keeps CSS pixels.
      const next = document.createElement("canvas");
      next.className = this.ui.canvas.className;
      next.setAttribute("aria-hidden", "true");
      next.width = Math.floor(viewport.width * ratio);
      next.height = Math.floor(viewport.height * ratio);
      this.renderTask = page.render({
        canvas: next,
        canvasContext: next.getContext("2d"),
        viewport,
        transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null,
      });
      await this.renderTask.promise;
      if (generation !== this.generation) { return false; }
      this.renderTask = null;

      pageBox.style.width = `${Math.floor(viewport.width)}px`;
      pageBox.style.height = `${Math.floor(viewport.height)}px`;
      pageBox.style.setProperty("--scale-factor", String(viewport.scale));
      this.ui.canvas.replaceWith(next);
      this.ui.canvas = next;

      const layer = document.createElement("div");
      layer.className = "textLayer";
      this.textLayer = new this.pdfjs.TextLayer({textContentSource: text, container: layer, viewport});
      await this.textLayer.render();
      if (generation !== this.generation) { return false; }
      const items = text.items.filter((i) => i.str !== undefined);
      highlightSpans(this.textLayer.textDivs, findMatches(items, this.pattern));
      this.ui.textLayer.replaceWith(layer);
      this.ui.textLayer = layer;

      this.pageNum = pageNum;
      this.markSelected();
      this.updatePageControls();
      stage.scrollTop = toBottom ? stage.scrollHeight : 0;
      return true;
    } catch (error) {
      if (error && (error.name === "RenderingCancelledException" || error.name === "AbortException")) {
        return false;
      }
      throw error;
    } finally {
      if (generation === this.generation) { stage.removeAttribute("aria-busy"); }
    }
  }

  updatePageControls() {
    const {pageInput, buttons, stage, fallback} = this.ui;
    const n = this.pageNum;
    pageInput.value = String(n);
    if (buttons["prev-page"]) { buttons["prev-page"].disabled = n <= 1; }
    if (buttons["next-page"]) { buttons["next-page"].disabled = n >= this.pdf.numPages; }
    stage.setAttribute("aria-label", fill(stage.dataset.template, {n}));
    if (fallback) {
      fallback.href = `${fallback.href.split("#")[0]}#page=${n}`;
      fallback.textContent = fill(fallback.dataset.template, {n});
    }
    // The address follows the page shown, so a reload or a shared link opens it again.
    const url = new URL(window.location.href);
    url.searchParams.set("page", String(n));
    url.hash = `page-${n}`;
    window.history.replaceState(window.history.state, "", url.href);
  }

  async goToPage(n, options = {}) {
    if (!this.pdf) { return; }
    const target = Math.min(Math.max(1, n), this.pdf.numPages);
    // The selected match stays selected only while its page is shown.
    if (this.current >= 0 && this.hits[this.current].page !== target) {
      this.current = -1;
      this.updateHitStatus();
    }
    if (target !== this.wantedPage || target !== this.pageNum) {
      await this.render(target, options);
    }
  }

  goToTypedPage() {
    const value = this.ui.pageInput.value.trim();
    const n = /^\d{1,6}$/.test(value) ? parseInt(value, 10) : NaN;
    if (!this.pdf || !(n >= 1 && n <= this.pdf.numPages)) {
      this.ui.pageInput.value = String(this.pageNum);
      return;
    }
    this.goToPage(n);
  }

  async setZoom(step) {
    const next = Math.min(Math.max(0, step), ZOOM_STEPS.length - 1);
    if (next === this.zoom) { return; }
    this.zoom = next;
    this.ui.buttons["zoom-out"].disabled = next === 0;
    this.ui.buttons["zoom-in"].disabled = next === ZOOM_STEPS.length - 1;
    await this.render(this.wantedPage);
  }

  /* The next (+1) or previous (-1) match from where the reader is, wrapping around at the ends. */
  stepHit(direction) {
    if (!this.hits.length) { return; }
    let target;
    if (this.current >= 0) {
      target = (this.current + direction + this.hits.length) % this.hits.length;
    } else if (direction > 0) {
      target = this.hits.findIndex((h) => h.page >= this.pageNum);
      if (target < 0) { target = 0; }
    } else {
      target = this.hits.length - 1;
      for (let i = this.hits.length - 1; i >= 0; i--) {
        if (this.hits[i].page < this.pageNum) { target = i; break; }
      }
    }
    return this.select(target, {scroll: true});
  }

  async select(i, {scroll = false, instant = false} = {}) {
    const hit = this.hits[i];
    if (!hit) { return; }
    this.current = i;
    this.updateHitStatus();
    if (hit.page !== this.pageNum || hit.page !== this.wantedPage) {
      // Rendering marks the selected match; a newer rendering (a resize) does it too.
      if (!(await this.render(hit.page))) { return; }
    }
    if (this.current === i) { this.markSelected(scroll, instant); }
  }

  markSelected(scroll = false, instant = false) {
    const layer = this.ui.textLayer;
    for (const el of layer.querySelectorAll(".highlight.selected")) { el.classList.remove("selected"); }
    const hit = this.hits[this.current];
    if (!hit || hit.page !== this.pageNum) { return; }
    const spans = layer.querySelectorAll(`.highlight[data-hit="${hit.index}"]`);
    for (const el of spans) { el.classList.add("selected"); }
    if (scroll && spans.length) {
      const reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      spans[0].scrollIntoView({block: "center", inline: "nearest", behavior: instant || reduce ? "auto" : "smooth"});
    }
  }

  updateHitStatus() {
    const {hitStatus, buttons} = this.ui;
    if (!hitStatus) { return; }
    const n = this.hits.length;
    if (!n) {
      hitStatus.textContent = hitStatus.dataset.templateNone;
    } else if (this.current >= 0) {
      hitStatus.textContent = fill(hitStatus.dataset.templateCurrent, {k: this.current + 1, n});
    } else {
      hitStatus.textContent = fill(hitStatus.dataset.templateCount, {n});
    }
    for (const name of ["prev-hit", "next-hit"]) {
      if (buttons[name]) { buttons[name].disabled = n === 0; }
    }
  }

  showMessage(text, isError = false) {
    this.ui.message.textContent = text || "";
    this.ui.message.classList.toggle("is-error", isError);
  }

  fail(error) {
    console.error("PDF viewer:", error);
    this.showMessage(this.ui.message.dataset.error, true);
    this.ui.stage.classList.add("is-hidden");
    this.root.querySelector(".viewer-toolbar")?.setAttribute("hidden", "");
  }
}

const root = document.getElementById("pdf-viewer");
if (root && root.dataset.pdfUrl) {
  const viewer = new Viewer(root);
  if (viewer.mount()) {
    viewer.open().catch((error) => viewer.fail(error));
  }
  // For tests and the console: the state of the viewer.
  root.viewer = viewer;
}
