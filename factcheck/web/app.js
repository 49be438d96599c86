// The factcheck page: sends what a person pasted or dropped to the JSON API and shows the answer.
// Every word shown comes from the server's catalogue (/ui.json, the same table the CLI uses),
// and every value from the index is set with textContent: titles and snippets are crawled
// pages, so nothing from an answer is ever parsed as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"];
  const STORE_KEY = "factcheck.lang";
  const timings = { answers: [] };
  window.factcheckTimings = timings;

  let lang = document.documentElement.lang || "id";
  let ui = null; // {text: {key: sentence}, verdicts: {class: word}, months: [...], ...}
  let last = null; // the last request, asked again in the other language on a switch
  let busy = false;
  let previewUrl = null;

  // -- labels ------------------------------------------------------------------------------

  function loadLabels(wanted) {
    return fetch("/ui.json?lang=" + encodeURIComponent(wanted), {
      headers: { Accept: "application/json" },
    }).then((response) => {
      if (!response.ok) throw new Error("ui.json " + response.status);
      return response.json();
    });
  }

  // never rejects: without labels the page still asks and answers (the keys stand in)
  let ready = loadLabels(lang).then((labels) => { ui = labels; }, () => null);

  function t(key, params) {
    let sentence = ui && Object.prototype.hasOwnProperty.call(ui.text, key) ? ui.text[key] : key;
    if (params) {
      sentence = sentence.replace(/\{([a-z_]+)\}/g, (whole, name) =>
        Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole);
    }
    return sentence;
  }

  function relabel() {
    document.documentElement.lang = lang;
    document.title = t("page.title") + " · factcheck";
    document.querySelectorAll("[data-i18n]").forEach((el) => {
      el.textContent = t(el.dataset.i18n);
    });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
      el.setAttribute("placeholder", t(el.dataset.i18nPlaceholder));
    });
    document.querySelectorAll("button.lang").forEach((button) => {
      button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
    });
  }

  function setLanguage(wanted) {
    return loadLabels(wanted).then((labels) => {
      ui = labels;
      lang = labels.lang;
      relabel();
      try { window.localStorage.setItem(STORE_KEY, lang); } catch (e) { /* private mode */ }
      const url = new URL(window.location.href);
      url.searchParams.set("lang", lang);
      window.history.replaceState(null, "", url.pathname + url.search);
      if (last && !busy) run(last); // the answer's own sentences come in the new language
    }).catch(() => showError(t("page.error_network")));
  }

  // -- formatting, as factcheck.i18n does it ---------------------------------------------------

  function verdictLabel(raw, verdict) {
    const word = (ui && ui.verdicts[verdict]) || verdict || "";
    const label = (raw || "").split(/\s+/).filter(Boolean).join(" ");
    if (!label) return word.toUpperCase();
    if (label.toLowerCase() === word.toLowerCase()) return label;
    return label + " (" + word + ")";
  }

  function formatDate(value) {
    if (!value) return t("hit.no_date");
    const parts = String(value).slice(0, 10).split("-").map((p) => parseInt(p, 10));
    if (parts.length !== 3 || parts.some(isNaN) || parts[1] < 1 || parts[1] > 12) return value;
    return parts[2] + " " + ui.months[parts[1] - 1] + " " + parts[0];
  }

  function safeUrl(value) {
    try {
      const url = new URL(value);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // -- states ----------------------------------------------------------------------------------

  function setBusy(on, message) {
    busy = on;
    $("check-form").setAttribute("aria-busy", String(on));
    $("result").setAttribute("aria-busy", String(on));
    document.body.classList.toggle("busy", on);
    if (on) $("status").textContent = message;
  }

  function showError(message) {
    $("result").hidden = true;
    const box = $("error");
    box.replaceChildren(el("strong", null, t("error.prefix") + ": "), document.createTextNode(message));
    box.hidden = false;
    $("status").textContent = "";
  }

  function clearError() {
    $("error").hidden = true;
    $("error").replaceChildren();
  }

  // -- asking ----------------------------------------------------------------------------------

  function request(item) {
    const query = "?ui_lang=" + encodeURIComponent(lang);
    if (item.kind === "image") {
      return fetch("/check/image" + query, {
        method: "POST",
        headers: { "Content-Type": item.file.type || "application/octet-stream",
                   Accept: "application/json" },
        body: item.file,
      });
    }
    return fetch("/check" + query, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ text: item.text, ui_lang: lang }),
    });
  }

  function run(item) {
    if (busy) return Promise.resolve();
    clearError();
    setBusy(true, t(item.kind === "image" ? "page.reading_image" : "page.checking"));
    const started = performance.now();
    return request(item).then((response) =>
      response.json().catch(() => null).then((data) => ({ response, data }))
    ).then(({ response, data }) => {
      setBusy(false);
      if (!response.ok || !data || data.error) {
        const message = data && data.error && data.error.message;
        showError(message || (response.status + " " + response.statusText));
        return;
      }
      last = item;
      render(data, item);
      const ms = performance.now() - started;
      timings.answers.push({ kind: item.kind, ms: ms });
      $("result").dataset.elapsedMs = ms.toFixed(1);
    }, () => {
      setBusy(false);
      showError(t("page.error_network"));
    });
  }

  function checkText(event) {
    if (event) event.preventDefault();
    const value = $("text").value.trim();
    if (!value) {
      showError(t("page.empty"));
      $("text").focus();
      return;
    }
    ready.then(() => run({ kind: "text", text: value }));
  }

  function checkImage(file) {
    if (!file) return;
    ready.then(() => {
      $("image-name").textContent = t("page.image_chosen", { name: file.name || "" });
      $("image-name").hidden = false;
      if (ui && file.size > ui.max_image_bytes && ui.text["error.image_too_large"]) {
        showError(t("error.image_too_large"));
        return;
      }
      run({ kind: "image", file: file });
    });
  }

  // -- the answer ------------------------------------------------------------------------------

  function headlineOf(claim) {
    if (claim.degraded && claim.status !== "match") return t("tier.unchecked");
    return t("tier." + claim.status);
  }

  function hitItem(hit) {
    const li = el("li", "hit");
    const head = el("p", "hit-head");
    const badge = el("span", "verdict v-" + (hit.verdict || "unknown"),
                     verdictLabel(hit.verdict_raw, hit.verdict));
    head.append(badge, " ");
    const href = safeUrl(hit.url);
    const title = hit.title || hit.claim || hit.url;
    if (href) {
      const link = el("a", "title", title);
      link.href = href;
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      head.append(link);
    } else {
      head.append(el("span", "title", title));
    }
    li.append(head);
    const meta = [hit.publisher || t("hit.no_publisher"), formatDate(hit.published)];
    // a fact-check in another language than the reader's says so (render.written_in)
    const code = String(hit.language || "").split("-")[0].trim().toLowerCase();
    if (code && code !== lang && ui && Object.prototype.hasOwnProperty.call(ui.text, "written." + code)) {
      meta.push(t("written." + code));
    }
    if (href) meta.push(new URL(href).host);
    li.append(el("p", "meta", meta.join(" · ")));
    if (hit.snippet && hit.snippet !== hit.title) li.append(el("p", "snippet", hit.snippet));
    return li;
  }

  function hitSection(key, hits, className) {
    const section = el("section", "hits " + className);
    section.append(el("h4", null, t(key)));
    const list = el("ol");
    hits.forEach((hit) => list.append(hitItem(hit)));
    section.append(list);
    return section;
  }

  function claimBlock(claim, n, total, split) {
    const article = el("article", "claim status-" + claim.status + (claim.degraded ? " degraded" : ""));
    if (split) {
      article.append(el("h3", null, t("page.claim", { n: n, total: total })));
      article.append(el("p", "claim-text", claim.claim));
      article.append(el("p", "claim-headline", headlineOf(claim)));
    }
    const matches = claim.matches || [];
    const others = claim.others || [];
    if (claim.status !== "none") {
      if (matches.length) article.append(hitSection("section.matches", matches, "matches"));
      if (others.length) {
        article.append(hitSection(matches.length ? "section.others" : "section.related",
                                  others, "others"));
      }
    }
    return article;
  }

  function linkItem(link) {
    let kind = "unknown";
    if (!link.checked) kind = "refused";
    else if (link.lookalike_of || link.debunked) kind = "danger";
    else if (link.official || link.recognised) kind = "ok";
    const li = el("li", "link link-" + kind);
    li.append(el("span", "link-url", link.url));
    const summary = link.checked ? link.summary : t("link.refused", { reason: link.refused || "" });
    li.append(el("span", "link-summary", summary));
    return li;
  }

  function render(data, item) {
    const result = $("result");
    result.className = "result status-" + data.status + (data.degraded ? " degraded" : "");
    $("headline").textContent = data.message;

    const notices = $("notices");
    notices.replaceChildren(...(data.notices || []).map((n) => el("li", "notice notice-" + n.code, n.message)));

    if (previewUrl) { URL.revokeObjectURL(previewUrl); previewUrl = null; }
    if (item.kind === "image") {
      previewUrl = URL.createObjectURL(item.file);
      $("preview-img").src = previewUrl;
      $("preview").hidden = false;
    } else {
      $("preview").hidden = true;
      $("preview-img").removeAttribute("src");
    }
    const ocr = typeof data.ocr_text === "string";
    $("ocr").hidden = !ocr;
    $("ocr-text").textContent = ocr ? data.ocr_text : "";

    const claims = data.split ? data.claims : [Object.assign({ claim: data.query }, data)];
    $("claims").replaceChildren(...claims.map((c, i) => claimBlock(c, i + 1, claims.length, data.split)));

    const links = data.links || [];
    $("link-list").replaceChildren(...links.map(linkItem));
    $("links").hidden = links.length === 0;

    $("citation").textContent = data.citation;
    $("copy-status").textContent = "";
    result.hidden = false;
    $("status").textContent = data.message;
  }

  // -- copying ---------------------------------------------------------------------------------

  function copyFallback(value) {
    const area = document.createElement("textarea");
    area.value = value;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.append(area);
    area.select();
    let done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    area.remove();
    return done;
  }

  function selectCitation() {
    const range = document.createRange();
    range.selectNodeContents($("citation"));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyCitation() {
    const value = $("citation").textContent;
    const report = (ok) => {
      $("copy-status").textContent = t(ok ? "page.copied" : "page.copy_failed");
      if (!ok) selectCitation();
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(() => report(true), () => report(copyFallback(value)));
    } else {
      report(copyFallback(value));
    }
  }

  // -- wiring ----------------------------------------------------------------------------------

  function firstImage(items) {
    for (const item of Array.from(items || [])) {
      const file = item instanceof File ? item : (item.kind === "file" ? item.getAsFile() : null);
      if (file && (IMAGE_TYPES.includes(file.type) || file.type.startsWith("image/"))) return file;
    }
    return null;
  }

  function start() {
    $("check-form").addEventListener("submit", checkText);
    $("text").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) checkText(event);
    });
    $("image").addEventListener("change", () => {
      checkImage($("image").files[0]);
      $("image").value = ""; // choosing the same file again checks it again
    });
    const drop = $("drop");
    ["dragenter", "dragover"].forEach((name) => drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((name) => drop.addEventListener(name, () => drop.classList.remove("over")));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      const file = firstImage(event.dataTransfer && event.dataTransfer.files);
      if (file) checkImage(file);
    });
    document.addEventListener("paste", (event) => {
      const data = event.clipboardData;
      if (!data || Array.from(data.types || []).includes("text/plain")) return; // text: pasted
      const file = firstImage(data.items);
      if (file) {
        event.preventDefault();
        checkImage(file);
      }
    });
    $("copy").addEventListener("click", copyCitation);
    document.querySelectorAll("button.lang").forEach((button) => {
      button.addEventListener("click", () => {
        if (button.dataset.lang !== lang) ready = setLanguage(button.dataset.lang);
      });
    });
    let stored = null;
    try { stored = window.localStorage.getItem(STORE_KEY); } catch (e) { stored = null; }
    const asked = new URL(window.location.href).searchParams.get("lang");
    if (!asked && stored && stored !== lang) ready = setLanguage(stored);
    document.body.classList.add("ready");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
