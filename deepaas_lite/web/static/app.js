// deepaas-lite's web app: models, predict forms with rendered outputs, trainings.
// Plain JavaScript, no build step. Every request goes to a documented API route:
// the model list and descriptions, /openapi.json (the argument schemas), health,
// predict, the trainings, their records and their logs (read incrementally).
"use strict";

(() => {
  // The API's root: where this page is, less "/app" (works under --base-path and proxies).
  const ROOT = location.pathname.replace(/\/app\/?$/, "");
  const TOKEN_KEY = "deepaas-lite-token";
  const POLL_MS = 1000;
  const main = document.getElementById("main");
  let documentPromise = null; // /openapi.json, read once
  let stopPolling = () => {};

  // --- small helpers -------------------------------------------------------------

  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "text") el.textContent = value;
      else if (value === true) el.setAttribute(key, "");
      else el.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function put(parent, ...children) {
    // append, skipping what a condition left out (null, undefined, false)
    parent.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  }

  let ids = 0;
  const newId = (prefix) => `${prefix}-${++ids}`;

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  function authHeaders() {
    return token() ? { Authorization: `Bearer ${token()}` } : {};
  }

  async function api(method, path, options = {}) {
    const headers = { ...authHeaders(), ...(options.headers || {}) };
    return fetch(ROOT + path, {
      method,
      headers,
      body: options.body,
      signal: options.signal,
      cache: "no-store",
    });
  }

  async function readError(response) {
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    const message = (body && body.message) || `${response.status} ${response.statusText}`;
    return { status: response.status, message, errors: (body && body.errors) || {} };
  }

  function alertBox(error) {
    const message = /[.!?)]$/.test(error.message) ? error.message : `${error.message}.`;
    const box = h(
      "div",
      { class: "alert", role: "alert" },
      h("strong", { text: `${error.status}` }),
      " ",
      message,
    );
    if (error.status === 401) {
      box.append(
        " ",
        h("span", {
          text: "Enter a token in the API token field at the top of the page, then try again.",
        }),
      );
      document.getElementById("token").focus();
    }
    return box;
  }

  function openapi() {
    if (!documentPromise) {
      documentPromise = api("GET", "/openapi.json").then(async (response) => {
        if (!response.ok) throw await readError(response);
        return response.json();
      });
      documentPromise.catch(() => {
        documentPromise = null;
      });
    }
    return documentPromise;
  }

  function operation(doc, suffix, method) {
    // The document's paths carry the server's base path; match on the API's own path.
    const key = Object.keys(doc.paths || {}).find((p) => p === suffix || p.endsWith(suffix));
    return key ? (doc.paths[key] || {})[method] : undefined;
  }

  function resolve(doc, schema) {
    if (!schema) return {};
    if (schema.$ref) {
      const target = schema.$ref
        .replace(/^#\//, "")
        .split("/")
        .reduce((o, k) => (o || {})[k], doc);
      return resolve(doc, target);
    }
    if (schema.allOf) {
      const merged = { ...schema };
      delete merged.allOf;
      for (const part of schema.allOf) Object.assign(merged, resolve(doc, part), { ...merged });
      return merged;
    }
    return schema;
  }

  function formSchema(doc, op) {
    const content = ((op || {}).requestBody || {}).content || {};
    const media =
      content["multipart/form-data"] || content["application/json"] || Object.values(content)[0];
    return resolve(doc, (media || {}).schema || { properties: {} });
  }

  function shellQuote(text) {
    return `'${String(text).replace(/'/g, `'\\''`)}'`;
  }

  function formatBytes(size) {
    if (size < 1024) return `${size} B`;
    if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} kB`;
    return `${(size / 1024 / 1024).toFixed(1)} MB`;
  }

  function parseDate(text) {
    // Records' dates are the server's local time, "YYYY-MM-DD HH:MM:SS.ffffff".
    const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d{1,3})?/.exec(text || "");
    return match ? new Date(`${match[1]}T${match[2]}${match[3] || ""}`) : null;
  }

  function formatSeconds(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    const m = Math.floor(seconds / 60);
    const s = seconds % 60;
    return m ? `${m} min ${s} s` : `${s} s`;
  }

  function setTitle(text) {
    document.title = text ? `${text} · deepaas-lite` : "deepaas-lite";
  }

  // --- the token field ---------------------------------------------------------------

  function setUpToken() {
    const form = document.getElementById("token-form");
    const input = document.getElementById("token");
    input.value = token();
    const save = () => {
      const value = input.value.trim();
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      else sessionStorage.removeItem(TOKEN_KEY);
    };
    input.addEventListener("change", save);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save();
      status("Token saved for this browser tab.");
    });
  }

  function status(text) {
    let region = document.getElementById("status");
    if (!region) {
      region = h("p", { id: "status", class: "status", role: "status", "aria-live": "polite" });
      document.body.append(region);
    }
    region.textContent = text;
    clearTimeout(status.timer);
    status.timer = setTimeout(() => {
      region.textContent = "";
    }, 4000);
  }

  // --- routing -------------------------------------------------------------------------

  async function route() {
    stopPolling();
    stopPolling = () => {};
    const hash = decodeURIComponent(location.hash.replace(/^#/, "")) || "/";
    const match = /^\/models\/([^/]+)(?:\/(predict|train))?\/?$/.exec(hash);
    main.replaceChildren();
    try {
      if (match) await modelPage(match[1], match[2] || "predict");
      else await modelsPage();
    } catch (error) {
      main.append(alertBox(error.status ? error : { status: "Error", message: String(error) }));
    }
  }

  // --- the models page -------------------------------------------------------------------

  function linkOf(model, rel) {
    return (model.links || []).some((l) => l.rel === rel);
  }

  async function modelsPage() {
    setTitle("Models");
    main.append(h("h1", { text: "Models" }));
    const [modelsResponse, readyResponse] = await Promise.all([
      api("GET", "/v2/models/"),
      api("GET", "/v2/health/ready"),
    ]);
    if (!modelsResponse.ok) throw await readError(modelsResponse);
    const { models } = await modelsResponse.json();
    let waiting = {};
    let readyKnown = true;
    if (!readyResponse.ok) {
      const body = await readyResponse.json().catch(() => ({}));
      waiting = body.reasons || {};
      if (!body.models && !body.reasons) readyKnown = false;
    }
    if (!models.length) {
      main.append(h("p", { text: "This server serves no model." }));
      return;
    }
    const list = h("ul", { class: "cards" });
    if (models.length > 6) {
      // Many models: a filter on their names and descriptions.
      const id = newId("filter");
      const filter = h("input", { id, type: "search", autocomplete: "off" });
      filter.addEventListener("input", () => {
        const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
        for (const card of list.children)
          card.hidden = !words.every((w) => card.textContent.toLowerCase().includes(w));
      });
      main.append(
        h("p", { class: "filter" }, h("label", { for: id, text: "Filter the models " }), filter),
      );
    }
    for (const model of models) {
      const reason = waiting[model.id];
      const readiness = !readyKnown
        ? h("span", { class: "badge badge-unknown", text: "readiness unknown" })
        : reason
          ? h("span", { class: "badge badge-waiting", title: reason, text: `not ready: ${reason}` })
          : h("span", { class: "badge badge-ready", text: "ready" });
      const facts = h("dl", { class: "facts" });
      for (const [label, key] of [
        ["Version", "version"],
        ["Author", "author"],
        ["License", "license"],
      ]) {
        if (model[key] !== undefined && model[key] !== "")
          facts.append(h("dt", { text: label }), h("dd", { text: String(model[key]) }));
      }
      const store = model.store;
      if (store && Array.isArray(store.versions) && store.versions.length) {
        facts.append(
          h("dt", { text: "Trained versions" }),
          h("dd", { text: String(store.versions.length) }),
        );
        if (store.served || store.current)
          facts.append(
            h("dt", { text: "Serving" }),
            h("dd", {
              class: "uuid",
              title: store.served || store.current,
              text: (store.served || store.current).slice(0, 8),
            }),
          );
      }
      const links = [];
      for (const key of ["url", "home_page", "homepage", "Home-page", "documentation"]) {
        const url = model[key];
        if (typeof url === "string" && /^https?:\/\//.test(url)) {
          links.push(
            h("a", {
              href: url,
              rel: "noopener",
              target: "_blank",
              text: key === "documentation" ? "Documentation" : "Home page",
            }),
          );
        }
      }
      const actions = h("p", { class: "actions" });
      if (linkOf(model, "predict"))
        actions.append(
          h("a", {
            class: "button",
            href: `#/models/${encodeURIComponent(model.id)}/predict`,
            text: "Predict",
          }),
        );
      if (linkOf(model, "train"))
        actions.append(
          h("a", {
            class: "button",
            href: `#/models/${encodeURIComponent(model.id)}/train`,
            text: "Train",
          }),
        );
      list.append(
        h(
          "li",
          { class: "card", "data-model": model.id },
          h(
            "h2",
            {},
            h(
              "a",
              { href: `#/models/${encodeURIComponent(model.id)}/predict` },
              model.name || model.id,
            ),
          ),
          model.name && model.name !== model.id
            ? h("p", { class: "muted", text: `id: ${model.id}` })
            : null,
          h("p", {}, readiness),
          model.description
            ? h("p", { class: "description", text: String(model.description) })
            : null,
          facts,
          links.length ? h("p", { class: "links" }, links) : null,
          actions,
        ),
      );
    }
    main.append(list);
  }

  // --- one model: tabs ------------------------------------------------------------------

  async function modelPage(modelId, tab) {
    const response = await api("GET", `/v2/models/${encodeURIComponent(modelId)}/`);
    if (!response.ok) throw await readError(response);
    const model = await response.json();
    const doc = await openapi();
    setTitle(`${model.name || model.id}: ${tab === "train" ? "Trainings" : "Predict"}`);
    const base = `#/models/${encodeURIComponent(model.id)}`;
    const tabs = h("nav", { class: "tabs", "aria-label": "Model" });
    const canPredict = linkOf(model, "predict");
    const canTrain = linkOf(model, "train");
    if (canPredict)
      tabs.append(
        h("a", {
          href: `${base}/predict`,
          "aria-current": tab === "predict" ? "page" : null,
          text: "Predict",
        }),
      );
    if (canTrain)
      tabs.append(
        h("a", {
          href: `${base}/train`,
          "aria-current": tab === "train" ? "page" : null,
          text: "Trainings",
        }),
      );
    put(
      main,
      h("p", { class: "crumbs" }, h("a", { href: "#/", text: "Models" }), " / ", model.id),
      h(
        "h1",
        {},
        model.name || model.id,
        model.version ? h("span", { class: "muted", text: ` ${model.version}` }) : null,
      ),
      model.description ? h("p", { class: "description", text: String(model.description) }) : null,
      tabs,
    );
    const panel = h("section", { class: "panel" });
    main.append(panel);
    if (tab === "train" && canTrain) await trainTab(panel, doc, model);
    else if (canPredict) predictTab(panel, doc, model);
    else if (canTrain) await trainTab(panel, doc, model);
    else panel.append(h("p", { text: "This model neither predicts nor trains." }));
    main.focus();
  }

  // --- forms from JSON Schema ----------------------------------------------------------------

  function describe(schema) {
    const parts = [];
    if (schema.description) parts.push(schema.description);
    const low = schema.minimum;
    const high = schema.maximum;
    if (low !== undefined || high !== undefined) {
      const lowSign = schema.exclusiveMinimum === true ? "<" : "≤";
      const highSign = schema.exclusiveMaximum === true ? "<" : "≤";
      if (low !== undefined && high !== undefined)
        parts.push(`${low} ${lowSign} value ${highSign} ${high}`);
      else if (low !== undefined)
        parts.push(`at least ${low}${schema.exclusiveMinimum === true ? " (excluded)" : ""}`);
      else parts.push(`at most ${high}${schema.exclusiveMaximum === true ? " (excluded)" : ""}`);
    }
    if (schema.maxLength !== undefined) parts.push(`at most ${schema.maxLength} characters`);
    if (schema.maxItems !== undefined) parts.push(`at most ${schema.maxItems} items`);
    return parts.join(" · ");
  }

  function isFile(schema) {
    return schema.type === "string" && schema.format === "binary";
  }

  function initial(schema) {
    if (schema.default !== undefined) return schema.default;
    if (schema.example !== undefined) return schema.example;
    return undefined;
  }

  function scalarInput(schema, id, value, label) {
    // One value: a select for an enum, a number input with its range, or text.
    if (Array.isArray(schema.enum)) {
      const select = h("select", { id, "aria-label": label });
      for (const choice of schema.enum)
        select.append(h("option", { value: String(choice), text: String(choice) }));
      if (value !== undefined) select.value = String(value);
      return {
        el: select,
        get: () => (select.value === "" ? undefined : typed(schema, select.value)),
      };
    }
    if (schema.type === "integer" || schema.type === "number") {
      const input = h("input", {
        id,
        type: "number",
        inputmode: schema.type === "integer" ? "numeric" : "decimal",
        step: schema.type === "integer" ? 1 : "any",
        min: schema.minimum,
        max: schema.maximum,
        "aria-label": label,
      });
      if (value !== undefined) input.value = String(value);
      return { el: input, get: () => (input.value === "" ? undefined : Number(input.value)) };
    }
    const input = h("input", {
      id,
      type: "text",
      maxlength: schema.maxLength,
      "aria-label": label,
    });
    if (value !== undefined) input.value = String(value);
    return { el: input, get: () => (input.value === "" ? undefined : input.value) };
  }

  function typed(schema, text) {
    if (schema.type === "integer" || schema.type === "number") return Number(text);
    if (schema.type === "boolean") return text === "true";
    return text;
  }

  function previewFiles(input, preview) {
    for (const url of preview.urls || []) URL.revokeObjectURL(url);
    preview.urls = [];
    preview.replaceChildren();
    for (const file of input.files) {
      const url = URL.createObjectURL(file);
      preview.urls.push(url);
      let media = null;
      if (file.type.startsWith("image/"))
        media = h("img", { src: url, alt: `Preview of ${file.name}` });
      else if (file.type.startsWith("audio/"))
        media = h("audio", { controls: true, src: url, "aria-label": `Listen to ${file.name}` });
      else if (file.type.startsWith("video/"))
        media = h("video", { controls: true, src: url, "aria-label": `Watch ${file.name}` });
      preview.append(
        h(
          "figure",
          { class: "file" },
          media,
          h("figcaption", { text: `${file.name} (${formatBytes(file.size)})` }),
        ),
      );
    }
  }

  function fileInput(id, multiple, label) {
    const input = h("input", { id, type: "file", multiple, "aria-label": label });
    const preview = h("div", { class: "previews" });
    const zone = h(
      "div",
      { class: "drop" },
      input,
      h("span", {
        class: "muted",
        text: multiple ? " or drop files here" : " or drop a file here",
      }),
      preview,
    );
    input.addEventListener("change", () => previewFiles(input, preview));
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      const transfer = new DataTransfer();
      for (const file of event.dataTransfer.files) {
        transfer.items.add(file);
        if (!multiple) break;
      }
      input.files = transfer.files;
      previewFiles(input, preview);
    });
    return { el: zone, input, files: () => [...input.files] };
  }

  function skeleton(doc, schema) {
    schema = resolve(doc, schema);
    if (schema.example !== undefined) return schema.example;
    if (schema.properties) {
      const out = {};
      for (const [key, prop] of Object.entries(schema.properties)) out[key] = skeleton(doc, prop);
      return out;
    }
    if (schema.type === "array") return [];
    if (schema.type === "object") return {};
    if (schema.type === "integer" || schema.type === "number") return 0;
    if (schema.type === "boolean") return false;
    return "";
  }

  function jsonEditor(doc, schema, id, value, label, message) {
    const text = value === undefined ? "" : JSON.stringify(value, null, 2);
    const area = h("textarea", {
      id,
      rows: 4,
      spellcheck: "false",
      "aria-label": label,
      placeholder: JSON.stringify(skeleton(doc, schema)),
    });
    area.value = text;
    const check = () => {
      if (area.value.trim() === "") {
        area.removeAttribute("aria-invalid");
        message.textContent = "";
        return undefined;
      }
      try {
        const parsed = JSON.parse(area.value);
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
          throw new Error("an object {...} is expected");
        area.removeAttribute("aria-invalid");
        message.textContent = "";
        return parsed;
      } catch (error) {
        area.setAttribute("aria-invalid", "true");
        message.textContent = `Not a valid JSON object: ${error.message}`;
        throw new Error(`${label}: not a valid JSON object`);
      }
    };
    area.addEventListener("input", () => {
      try {
        check();
      } catch (_) {
        /* shown next to the field */
      }
    });
    return { el: area, get: check };
  }

  function listEditor(schema, id, values, label) {
    const itemSchema = schema.items || {};
    const list = h("ol", { class: "list", id });
    const rows = [];
    const relabel = () => {
      rows.forEach((entry, i) => {
        entry.control.el.setAttribute("aria-label", `${label}, item ${i + 1}`);
        entry.remove.setAttribute("aria-label", `Remove item ${i + 1} of ${label}`);
      });
    };
    const addButton = h("button", {
      type: "button",
      class: "small",
      "aria-label": `Add an item to ${label}`,
      text: "Add",
    });
    const add = (value) => {
      const control = scalarInput(itemSchema, newId(`${id}-item`), value, label);
      const remove = h("button", { type: "button", class: "small", text: "Remove" });
      const entry = { row: h("li", {}, control.el, remove), control, remove };
      remove.addEventListener("click", () => {
        rows.splice(rows.indexOf(entry), 1);
        entry.row.remove();
        relabel();
        addButton.focus();
      });
      rows.push(entry);
      list.append(entry.row);
      relabel();
      return control;
    };
    addButton.addEventListener("click", () => add(undefined).el.focus());
    for (const value of values || []) add(value);
    return {
      el: h("div", { class: "list-editor" }, list, addButton),
      get: () => {
        const out = rows.map((e) => e.control.get()).filter((v) => v !== undefined);
        return out.length ? out : undefined;
      },
    };
  }

  // A form generated from the operation's request schema; get() reads it.
  function buildForm(doc, schema, form) {
    const required = new Set(schema.required || []);
    const fields = [];
    for (const [name, raw] of Object.entries(schema.properties || {})) {
      const prop = resolve(doc, raw);
      const id = newId("field");
      const hintId = `${id}-hint`;
      const errorId = `${id}-error`;
      const label = h(
        "label",
        { for: id },
        name,
        required.has(name) ? h("span", { class: "required", title: "required", text: " *" }) : null,
      );
      const hint = h("p", { class: "hint", id: hintId, text: describe(prop) });
      const message = h("p", { class: "field-error", id: errorId, "aria-live": "polite" });
      let control;
      let kind = "value";
      if (isFile(prop)) {
        control = fileInput(id, false, name);
        kind = "file";
      } else if (prop.type === "array" && isFile(resolve(doc, prop.items || {}))) {
        control = fileInput(id, true, name);
        kind = "files";
      } else if (prop.type === "boolean") {
        const box = h("input", { id, type: "checkbox" });
        box.checked = initial(prop) === true;
        control = { el: box, get: () => box.checked };
      } else if (prop.type === "array") {
        control = listEditor(prop, id, initial(prop), name);
      } else if (prop.type === "object" || prop.properties || prop.additionalProperties) {
        control = jsonEditor(doc, prop, id, initial(prop), name, message);
      } else {
        control = scalarInput(prop, id, initial(prop), name);
      }
      const target =
        control.input || control.el.querySelector?.("input, select, textarea") || control.el;
      for (const el of [control.input, control.el, target]) {
        if (el && el.matches && el.matches("input, select, textarea"))
          el.setAttribute("aria-describedby", `${hintId} ${errorId}`);
      }
      if (kind === "value" && control.el.matches("input, select, textarea"))
        control.el.removeAttribute("aria-label");
      if (kind !== "value") (control.input || control.el).removeAttribute("aria-label");
      const wrapper = h(
        "div",
        {
          class: `field field-${kind === "value" ? prop.type || "value" : "file"}`,
          "data-field": name,
        },
        prop.type === "boolean"
          ? h("div", { class: "check" }, control.el, label)
          : [label, control.el],
        hint,
        message,
      );
      form.append(wrapper);
      fields.push({
        name,
        kind,
        control,
        message,
        wrapper,
        focus: () => (wrapper.querySelector("input, select, textarea, button") || wrapper).focus(),
      });
    }
    return {
      fields,
      read() {
        const values = {};
        const files = [];
        for (const field of fields) {
          if (field.kind === "file" || field.kind === "files") {
            for (const file of field.control.files()) files.push([field.name, file]);
            continue;
          }
          const value = field.control.get();
          if (value !== undefined) values[field.name] = value;
        }
        return { values, files };
      },
      showErrors(errors) {
        let first = null;
        for (const field of fields) {
          field.message.textContent = "";
          field.wrapper.classList.remove("invalid");
          const input = field.wrapper.querySelector("input, select, textarea");
          if (input) input.removeAttribute("aria-invalid");
        }
        for (const field of fields) {
          if (!Object.prototype.hasOwnProperty.call(errors || {}, field.name)) continue;
          field.message.textContent = flattenMessages(errors[field.name]).join(" ");
          field.wrapper.classList.add("invalid");
          const input = field.wrapper.querySelector("input, select, textarea");
          if (input) input.setAttribute("aria-invalid", "true");
          if (!first) first = field;
        }
        if (first) first.focus();
        return Object.keys(errors || {}).filter((name) => !fields.some((f) => f.name === name));
      },
    };
  }

  function flattenMessages(messages) {
    if (typeof messages === "string") return [messages];
    if (Array.isArray(messages)) return messages.flatMap(flattenMessages);
    if (messages && typeof messages === "object") {
      return Object.entries(messages).flatMap(([key, value]) =>
        flattenMessages(value).map((m) => `${key}: ${m}`),
      );
    }
    return [String(messages)];
  }

  // The request a form makes: a JSON body, or multipart when files are chosen.
  function buildRequest(read, accept) {
    const headers = {};
    if (accept) headers.Accept = accept;
    if (!read.files.length) {
      headers["Content-Type"] = "application/json";
      return { headers, body: JSON.stringify(read.values), json: read.values, parts: null };
    }
    const data = new FormData();
    const parts = [];
    for (const [name, value] of Object.entries(read.values)) {
      const items = Array.isArray(value) ? value : [value];
      for (const item of items) {
        const text = typeof item === "object" ? JSON.stringify(item) : String(item);
        data.append(name, text);
        parts.push([name, text, null]);
      }
    }
    for (const [name, file] of read.files) {
      data.append(name, file, file.name);
      parts.push([name, null, file]);
    }
    return { headers, body: data, json: null, parts };
  }

  function snippets(method, path, request) {
    const url = location.origin + ROOT + path;
    const auth = token() !== "";
    const curl = [`curl -X ${method} ${shellQuote(url)}`];
    for (const [key, value] of Object.entries(request.headers))
      curl.push(`-H ${shellQuote(`${key}: ${value}`)}`);
    if (auth) curl.push(`-H "Authorization: Bearer $DEEPAAS_TOKEN"`);
    const py = [
      "import os",
      "",
      "import requests",
      "",
      `response = requests.${method.toLowerCase()}(`,
    ];
    const pyArgs = [`    ${JSON.stringify(url)},`];
    const pyHeaders = Object.entries(request.headers).filter(
      ([k]) => k !== "Content-Type" || !request.json,
    );
    const headerItems = pyHeaders.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`);
    if (auth) headerItems.push(`"Authorization": "Bearer " + os.environ["DEEPAAS_TOKEN"]`);
    if (headerItems.length) pyArgs.push(`    headers={${headerItems.join(", ")}},`);
    if (request.json) {
      curl.push(`-d ${shellQuote(JSON.stringify(request.json))}`);
      pyArgs.push(`    json=${pyLiteral(request.json)},`);
    } else if (request.parts) {
      const data = [];
      const files = [];
      for (const [name, text, file] of request.parts) {
        if (file) {
          curl.push(`-F ${shellQuote(`${name}=@${file.name}`)}`);
          files.push(
            `(${JSON.stringify(name)}, (${JSON.stringify(file.name)}, open(${JSON.stringify(file.name)}, "rb")))`,
          );
        } else {
          curl.push(`-F ${shellQuote(`${name}=${text}`)}`);
          data.push(`(${JSON.stringify(name)}, ${JSON.stringify(text)})`);
        }
      }
      if (data.length) pyArgs.push(`    data=[${data.join(", ")}],`);
      if (files.length) pyArgs.push(`    files=[${files.join(", ")}],`);
    }
    const python = [...py, ...pyArgs, ")", "print(response.status_code)"].join("\n");
    return {
      curl: curl.join(" \\\n  "),
      python: auth ? python : python.replace("import os\n\n", ""),
    };
  }

  function pyLiteral(value) {
    if (value === null) return "None";
    if (value === true) return "True";
    if (value === false) return "False";
    if (Array.isArray(value)) return `[${value.map(pyLiteral).join(", ")}]`;
    if (typeof value === "object")
      return `{${Object.entries(value)
        .map(([k, v]) => `${JSON.stringify(k)}: ${pyLiteral(v)}`)
        .join(", ")}}`;
    return JSON.stringify(value);
  }

  function snippetBox(snips) {
    const box = h(
      "details",
      { class: "snippets" },
      h("summary", { text: "This request as curl or Python" }),
    );
    for (const [label, text, name] of [
      ["Copy as curl", snips.curl, "curl"],
      ["Copy as Python", snips.python, "python"],
    ]) {
      const pre = h("pre", { class: `snippet snippet-${name}`, tabindex: 0, text });
      const button = h("button", { type: "button", class: "small", text: label });
      button.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(text);
          status(`${label.replace("Copy as ", "")} snippet copied.`);
        } catch (_) {
          const range = document.createRange();
          range.selectNodeContents(pre);
          getSelection().removeAllRanges();
          getSelection().addRange(range);
          status("Selected: press Ctrl+C to copy.");
        }
      });
      box.append(h("div", { class: "snippet-row" }, button, pre));
    }
    return box;
  }

  // --- the predict tab -------------------------------------------------------------------

  function predictTab(panel, doc, model) {
    const path = `/v2/models/${encodeURIComponent(model.id)}/predict/`;
    const op = operation(doc, `/v2/models/${model.id}/predict`, "post");
    const schema = formSchema(doc, op);
    const form = h("form", {
      class: "args",
      novalidate: true,
      "aria-label": `Predict with ${model.id}`,
    });
    panel.append(h("h2", { text: "Predict" }), form);
    const acceptParam = ((op || {}).parameters || []).find((p) => p.name === "accept");
    const choices = acceptParam ? resolve(doc, acceptParam.schema).enum || [] : [];
    const properties = { ...(schema.properties || {}) };
    delete properties.accept; // the Accept choice is the select below
    const generated = buildForm(doc, { ...schema, properties }, form);
    let acceptSelect = null;
    if (choices.length > 1) {
      const id = newId("accept");
      acceptSelect = h("select", { id });
      for (const choice of choices)
        acceptSelect.append(h("option", { value: choice, text: choice }));
      form.append(
        h(
          "div",
          { class: "field" },
          h("label", { for: id, text: "Answer as" }),
          acceptSelect,
          h("p", { class: "hint", text: "The Accept header of the request" }),
        ),
      );
    }
    const submit = h("button", { type: "submit", class: "primary", text: "Predict" });
    const abort = h("button", { type: "button", hidden: true, text: "Cancel" });
    const busy = h(
      "span",
      { class: "busy", hidden: true },
      h("span", { class: "spinner", "aria-hidden": "true" }),
      " Predicting…",
    );
    form.append(h("div", { class: "submit" }, submit, " ", abort, " ", busy));
    const result = h("section", {
      class: "result",
      "aria-live": "polite",
      "aria-label": "Prediction",
    });
    panel.append(result);
    // Long predictions: with the server's prediction jobs (documented for this model),
    // predict is asked to answer at once (Prefer: respond-async, 202) and the job is
    // read until it ends; Cancel then cancels the job on the server too.
    const jobs = !!operation(doc, `/v2/models/${model.id}/predictions/{uuid}`, "get");
    let controller = null;
    let job = null; // the path of the job in flight
    abort.addEventListener("click", async () => {
      if (controller) controller.abort();
      if (job) {
        const cancelled = job;
        job = null;
        const response = await api("DELETE", cancelled);
        status(
          response.ok
            ? "The prediction job was cancelled on the server."
            : "The job could not be cancelled.",
        );
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      result.replaceChildren();
      let read;
      try {
        read = generated.read();
      } catch (error) {
        result.append(h("div", { class: "alert", role: "alert", text: error.message }));
        return;
      }
      generated.showErrors({});
      const request = buildRequest(read, acceptSelect ? acceptSelect.value : "");
      controller = new AbortController();
      submit.disabled = true;
      abort.hidden = false;
      busy.hidden = false;
      const started = performance.now();
      try {
        const headers = jobs ? { ...request.headers, Prefer: "respond-async" } : request.headers;
        let response = await api("POST", path, {
          headers,
          body: request.body,
          signal: controller.signal,
        });
        if (response.status === 202)
          response = await followJob(
            model,
            await response.json(),
            controller.signal,
            (p) => (job = p),
          );
        job = null;
        const seconds = ((performance.now() - started) / 1000).toFixed(2);
        if (response.ended) {
          result.append(h("p", { class: "alert", role: "alert", text: response.ended }));
        } else if (!response.ok) {
          const error = await readError(response);
          const unplaced = generated.showErrors(error.errors);
          result.append(alertBox(error));
          if (unplaced.length)
            result.append(
              h("p", {
                class: "field-error",
                text: unplaced
                  .map((n) => `${n}: ${flattenMessages(error.errors[n]).join(" ")}`)
                  .join("; "),
              }),
            );
        } else {
          result.append(
            h("h3", { text: "Output" }),
            h("p", {
              class: "muted",
              text: `${response.status} · ${response.headers.get("Content-Type") || ""} · ${seconds} s`,
            }),
          );
          await renderOutput(result, response);
        }
      } catch (error) {
        if (error.name === "AbortError")
          result.append(
            h("p", {
              class: "alert",
              role: "alert",
              text: jobs ? "Cancelled." : "Cancelled: the prediction was abandoned.",
            }),
          );
        else
          result.append(
            h("p", { class: "alert", role: "alert", text: `The request failed: ${error.message}` }),
          );
      } finally {
        submit.disabled = false;
        abort.hidden = true;
        busy.hidden = true;
        controller = null;
      }
      result.append(snippetBox(snippets("POST", path, request)));
    });
  }

  const sleep = (ms, signal) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new DOMException("Aborted", "AbortError"));
      });
    });

  // A prediction job read until it ends; its output (a Response), or {ended: why}.
  async function followJob(model, record, signal, track) {
    const jobPath = `/v2/models/${encodeURIComponent(model.id)}/predictions/${encodeURIComponent(record.uuid)}`;
    track(jobPath);
    let delay = 100;
    while (ACTIVE.has(record.status)) {
      await sleep(delay, signal);
      delay = Math.min(1000, delay * 2);
      const response = await api("GET", jobPath, { signal });
      if (!response.ok) return response;
      record = await response.json();
    }
    if (record.status !== "done") {
      const why = record.message ? `: ${record.message}` : "";
      return { ended: `The prediction job ended ${record.status}${why}` };
    }
    const output = await api("GET", `${jobPath}/output`, { signal });
    if (output.ok) {
      // Read it now, then remove the ended job: the browser keeps what it shows.
      const body = await output.blob();
      api("DELETE", jobPath).catch(() => {});
      return new Response(body, {
        status: 200,
        headers: { "Content-Type": output.headers.get("Content-Type") || "" },
      });
    }
    return output;
  }

  // --- outputs by type -----------------------------------------------------------------------

  const EXTENSIONS = {
    "application/pdf": "pdf",
    "application/zip": "zip",
    "application/octet-stream": "bin",
  };

  async function renderOutput(target, response) {
    const type = (response.headers.get("Content-Type") || "").split(";")[0].trim().toLowerCase();
    if (type === "application/json" || type.endsWith("+json")) {
      const body = await response.json();
      const output =
        body && typeof body === "object" && "predictions" in body && body.status === "OK"
          ? body.predictions
          : body;
      renderValue(target, output);
      return;
    }
    if (type.startsWith("text/")) {
      target.append(h("pre", { class: "output-text", tabindex: 0, text: await response.text() }));
      return;
    }
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    if (type.startsWith("image/"))
      target.append(h("img", { class: "output-image", src: url, alt: `The prediction (${type})` }));
    else if (type.startsWith("audio/"))
      target.append(
        h("audio", {
          class: "output-audio",
          controls: true,
          src: url,
          "aria-label": "The prediction",
        }),
      );
    else if (type.startsWith("video/"))
      target.append(
        h("video", {
          class: "output-video",
          controls: true,
          src: url,
          "aria-label": "The prediction",
        }),
      );
    const extension = EXTENSIONS[type] || type.split("/")[1] || "bin";
    target.append(
      h(
        "p",
        {},
        h("a", {
          class: "download",
          href: url,
          download: `prediction.${extension.replace(/[^a-z0-9]+/g, "")}`,
          text: `Download (${type}, ${formatBytes(blob.size)})`,
        }),
      ),
    );
  }

  function isScores(value) {
    if (!value || typeof value !== "object" || Array.isArray(value)) return false;
    const entries = Object.values(value);
    return entries.length > 0 && entries.every((v) => typeof v === "number" && Number.isFinite(v));
  }

  function scoresTable(scores, caption) {
    const max = Math.max(...Object.values(scores).map(Math.abs), 1e-12);
    const table = h(
      "table",
      { class: "scores" },
      h("caption", { text: caption }),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col", text: "Label" }),
          h("th", { scope: "col", text: "Score" }),
          h("th", { scope: "col", text: "Chart" }),
        ),
      ),
    );
    const body = h("tbody");
    const sorted = Object.entries(scores).sort((a, b) => b[1] - a[1]);
    for (const [label, score] of sorted) {
      const width = `${((Math.abs(score) / max) * 100).toFixed(1)}%`;
      body.append(
        h(
          "tr",
          {},
          h("th", { scope: "row", text: label }),
          h("td", { class: "number", text: formatNumber(score) }),
          h(
            "td",
            { class: "bar-cell" },
            h("span", { class: "bar", style: `width: ${width}`, "aria-hidden": "true" }),
          ),
        ),
      );
    }
    table.append(body);
    return table;
  }

  function formatNumber(value) {
    return Number.isInteger(value)
      ? String(value)
      : value.toFixed(4).replace(/0+$/, "").replace(/\.$/, "");
  }

  function renderValue(target, value) {
    if (isScores(value)) target.append(scoresTable(value, "Scores"));
    else if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value))
        if (isScores(inner)) target.append(scoresTable(inner, key));
    }
    target.append(
      h("div", { class: "tree", "aria-label": "The output as JSON" }, tree(value, "output", 0)),
    );
  }

  function tree(value, key, depth) {
    if (value !== null && typeof value === "object") {
      const entries = Array.isArray(value)
        ? value.map((v, i) => [String(i), v])
        : Object.entries(value);
      const summary = Array.isArray(value)
        ? `${key}: [${entries.length}]`
        : `${key}: {${entries.length}}`;
      const details = h("details", { open: depth < 3 }, h("summary", { text: summary }));
      const list = h("ul");
      for (const [k, v] of entries) list.append(h("li", {}, tree(v, k, depth + 1)));
      details.append(list);
      return details;
    }
    const kind = value === null ? "null" : typeof value;
    return h(
      "span",
      { class: "leaf" },
      h("span", { class: "key", text: `${key}: ` }),
      h("span", { class: `value value-${kind}`, text: JSON.stringify(value) }),
    );
  }

  // --- the trainings tab ----------------------------------------------------------------------

  const ACTIVE = new Set(["pending", "running"]);

  async function trainTab(panel, doc, model) {
    const base = `/v2/models/${encodeURIComponent(model.id)}/train/`;
    const op = operation(doc, `/v2/models/${model.id}/train`, "post");
    const schema = formSchema(doc, op);
    const form = h("form", { class: "args", novalidate: true, "aria-label": `Train ${model.id}` });
    const generated = buildForm(doc, schema, form);
    const submit = h("button", { type: "submit", class: "primary", text: "Start training" });
    const formMessage = h("div", { class: "form-message", "aria-live": "polite" });
    form.append(h("div", { class: "submit" }, submit), formMessage);
    const list = h("ol", { class: "trainings", "aria-label": "Trainings, oldest first" });
    const empty = h("p", { class: "muted", text: "No training yet." });
    const compare = h("section", {
      class: "compare",
      "aria-live": "polite",
      "aria-label": "Comparison",
    });
    const storeLine = h("p", { class: "muted store-line", hidden: true });
    const modelPath = `/v2/models/${encodeURIComponent(model.id)}/`;
    const showStore = () => {
      const store = model.store;
      const serving = store && (store.served || store.current);
      storeLine.hidden = !serving;
      storeLine.textContent = serving
        ? `Serving the version trained by ${serving.slice(0, 8)}${store.current && store.current !== serving ? ` (switching to ${store.current.slice(0, 8)})` : ""}`
        : "";
      for (const card of cards.values()) card.update(card.record());
    };
    // A training's record says done a moment before its version is made current: read
    // the store again (at most 5 s) until the version ``expected`` is current.
    const refreshStore = async (expected) => {
      for (let tries = 0; tries < 20; tries += 1) {
        const response = await api("GET", modelPath);
        if (!response.ok) return;
        model.store = (await response.json()).store;
        showStore();
        if (!expected || (model.store && model.store.current === expected)) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    put(
      panel,
      h(
        "details",
        { class: "train-form", open: true },
        h("summary", {}, h("h2", { text: "Start a training" })),
        form,
      ),
      h("h2", { text: "Trainings" }),
      storeLine,
      empty,
      list,
      compare,
    );
    const cards = new Map(); // uuid -> card
    let alive = true;
    let timer = null;

    const refresh = async () => {
      const response = await api("GET", base);
      if (!response.ok) {
        const error = await readError(response);
        formMessage.replaceChildren(alertBox(error));
        return false;
      }
      const records = await response.json();
      const seen = new Set();
      for (const record of records) {
        seen.add(record.uuid);
        (cards.get(record.uuid) || addCard(record)).update(record);
      }
      for (const uuid of [...cards.keys()]) if (!seen.has(uuid)) removeCard(uuid);
      empty.hidden = cards.size > 0;
      renderCompare();
      return records.some((r) => ACTIVE.has(r.status));
    };

    // A card starts from the first record seen: the one a submission answered (pending),
    // so that a training which ends before the next read still shows its end.
    const addCard = (record) => {
      const card = trainingCard(model, base, record, {
        onRemoved: () => removeCard(record.uuid),
        onCompare: renderCompare,
        onChanged: schedule,
        onEnded: (ended) => model.store && refreshStore(ended.status === "done" && ended.version),
        onServe: refreshStore,
      });
      cards.set(record.uuid, card);
      list.append(card.el);
      empty.hidden = true;
      return card;
    };

    const removeCard = (uuid) => {
      const card = cards.get(uuid);
      if (!card) return;
      card.stop();
      card.el.remove();
      cards.delete(uuid);
      empty.hidden = cards.size > 0;
      renderCompare();
    };

    function schedule() {
      if (!alive || timer) return;
      timer = setTimeout(async () => {
        timer = null;
        if (!alive) return;
        let active = false;
        try {
          active = await refresh();
        } catch (_) {
          active = true; // try again
        }
        if (active) schedule();
      }, POLL_MS);
    }

    function renderCompare() {
      const chosen = [...cards.values()].filter((c) => c.compared());
      compare.replaceChildren();
      if (chosen.length < 2) {
        if (cards.size > 1)
          compare.append(
            h("p", {
              class: "muted",
              text: "Tick “Compare” on two trainings to see their results side by side.",
            }),
          );
        return;
      }
      const [a, b] = chosen.slice(-2).map((c) => c.record());
      const rows = [];
      const add = (group, left, right) => {
        const keys = [...new Set([...Object.keys(left || {}), ...Object.keys(right || {})])];
        for (const key of keys)
          rows.push([`${group}${key}`, (left || {})[key], (right || {})[key]]);
      };
      add("", outputOf(a), outputOf(b));
      add("argument: ", a.args, b.args);
      rows.push(["status", a.status, b.status]);
      rows.push(["duration", (a.result || {}).duration, (b.result || {}).duration]);
      const table = h(
        "table",
        { class: "compare-table" },
        h("caption", { text: "Two trainings side by side" }),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col", text: "" }),
            h("th", { scope: "col", text: a.uuid.slice(0, 8) }),
            h("th", { scope: "col", text: b.uuid.slice(0, 8) }),
          ),
        ),
      );
      const body = h("tbody");
      for (const [key, left, right] of rows) {
        const differs = JSON.stringify(left) !== JSON.stringify(right);
        body.append(
          h(
            "tr",
            { class: differs ? "differs" : null },
            h("th", { scope: "row", text: key }),
            h("td", { text: show(left) }),
            h("td", { text: show(right) }),
          ),
        );
      }
      table.append(body);
      compare.append(h("h2", { text: "Comparison" }), h("div", { class: "scroll" }, table));
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      formMessage.replaceChildren();
      let read;
      try {
        read = generated.read();
      } catch (error) {
        formMessage.append(h("div", { class: "alert", role: "alert", text: error.message }));
        return;
      }
      generated.showErrors({});
      const request = buildRequest(read, "");
      submit.disabled = true;
      try {
        const response = await api("POST", base, { headers: request.headers, body: request.body });
        if (!response.ok) {
          const error = await readError(response);
          generated.showErrors(error.errors);
          formMessage.append(alertBox(error));
        } else {
          const record = await response.json();
          formMessage.append(
            h("p", { class: "ok", text: `Training ${record.uuid.slice(0, 8)} started.` }),
          );
          addCard(record).showLog();
          await refresh();
          schedule();
        }
      } finally {
        submit.disabled = false;
      }
      formMessage.append(snippetBox(snippets("POST", base, request)));
    });

    stopPolling = () => {
      alive = false;
      clearTimeout(timer);
      for (const card of cards.values()) card.stop();
    };
    if (await refresh()) schedule();
    showStore();
  }

  function outputOf(record) {
    const output = (record.result || {}).output;
    if (output && typeof output === "object" && !Array.isArray(output)) return output;
    return output === undefined ? {} : { output };
  }

  function show(value) {
    if (value === undefined) return "—";
    if (typeof value === "string") return value;
    return JSON.stringify(value);
  }

  function trainingCard(model, base, first, hooks) {
    let record = first;
    const short = record.uuid.slice(0, 8);
    const path = `${base}${encodeURIComponent(record.uuid)}`;
    const badge = h("span", { class: "badge" });
    const when = h("span", { class: "muted" });
    const elapsed = h("span", { class: "elapsed" });
    const progressId = newId("progress");
    const bar = h("progress", { id: progressId, max: 1, value: 0 });
    const progressText = h("span", { class: "progress-text" });
    const progress = h(
      "div",
      { class: "progress" },
      h("label", {
        for: progressId,
        class: "visually-hidden",
        text: `Progress of training ${short}`,
      }),
      bar,
      " ",
      progressText,
    );
    const version = h("p", { class: "muted version" });
    const serve = h("button", {
      type: "button",
      class: "small",
      text: "Make current",
      "aria-label": `Serve the version of training ${short}`,
    });
    serve.addEventListener("click", async () => {
      serve.disabled = true;
      const response = await api(
        "PUT",
        `/v2/models/${encodeURIComponent(model.id)}/store/current?version=${encodeURIComponent(record.version)}`,
      );
      if (!response.ok) message.replaceChildren(alertBox(await readError(response)));
      serve.disabled = false;
      hooks.onServe();
    });
    const message = h("p", { class: "field-error" });
    const result = h("div", { class: "training-result" });
    const cancel = h("button", {
      type: "button",
      class: "small",
      text: "Cancel",
      "aria-label": `Cancel training ${short}`,
    });
    const remove = h("button", {
      type: "button",
      class: "small danger",
      text: "Delete",
      "aria-label": `Delete training ${short}`,
    });
    const logToggle = h("button", {
      type: "button",
      class: "small",
      "aria-expanded": "false",
      text: "Show log",
      "aria-label": `Show the log of training ${short}`,
    });
    const compareId = newId("compare");
    const compareBox = h("input", { type: "checkbox", id: compareId });
    const log = h("pre", {
      class: "log",
      tabindex: 0,
      hidden: true,
      "aria-label": `Log of training ${short}`,
    });
    const el = h(
      "li",
      { class: "training", "data-uuid": record.uuid },
      h(
        "div",
        { class: "training-head" },
        h("strong", { class: "uuid", title: record.uuid, text: short }),
        " ",
        badge,
        " ",
        when,
        " ",
        elapsed,
      ),
      progress,
      version,
      message,
      result,
      h(
        "div",
        { class: "actions" },
        cancel,
        " ",
        remove,
        " ",
        logToggle,
        " ",
        h("span", { class: "check" }, compareBox, h("label", { for: compareId, text: "Compare" })),
      ),
      log,
    );
    let logOffset = 0;
    let logTag = null;
    let logTimer = null;
    let stopped = false;

    // One read at a time: a read started while another is on its way (the card's end
    // reads the log once more) would ask for the same bytes and show them twice.
    let logReads = Promise.resolve();
    const readLog = () => {
      logReads = logReads.then(readLogOnce, readLogOnce);
      return logReads;
    };

    const readLogOnce = async () => {
      // Incremental reads: only the bytes after what is shown (Range), nothing when
      // the log has not changed (If-None-Match answers 304).
      const headers = {};
      if (logOffset > 0) headers.Range = `bytes=${logOffset}-`;
      if (logTag) headers["If-None-Match"] = logTag;
      const response = await api("GET", `${path}/log`, { headers });
      if (response.status === 304) return;
      if (response.status === 416) {
        logOffset = 0; // the log was cut short: read it whole
        logTag = null;
        return;
      }
      if (!response.ok) return;
      const text = await response.text();
      const bytes = new TextEncoder().encode(text).length;
      if (response.status === 206) {
        log.textContent += text;
        logOffset += bytes;
      } else {
        log.textContent = text;
        logOffset = bytes;
      }
      logTag = response.headers.get("ETag");
      if (log.scrollHeight - log.scrollTop - log.clientHeight < 80)
        log.scrollTop = log.scrollHeight;
    };

    const followLog = async () => {
      logTimer = null;
      if (stopped || log.hidden) return;
      try {
        await readLog();
      } catch (_) {
        /* try again */
      }
      if (!stopped && !log.hidden && ACTIVE.has(record.status))
        logTimer = setTimeout(followLog, POLL_MS);
    };

    const showLog = () => {
      log.hidden = false;
      logToggle.textContent = "Hide log";
      logToggle.setAttribute("aria-expanded", "true");
      clearTimeout(logTimer);
      followLog();
    };

    logToggle.addEventListener("click", () => {
      if (log.hidden) showLog();
      else {
        log.hidden = true;
        logToggle.textContent = "Show log";
        logToggle.setAttribute("aria-expanded", "false");
        clearTimeout(logTimer);
      }
    });

    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      const response = await api("DELETE", path);
      if (response.ok) {
        update(await response.json());
        hooks.onChanged();
      } else {
        message.replaceChildren(alertBox(await readError(response)));
        cancel.disabled = false;
      }
    });

    remove.addEventListener("click", async () => {
      remove.disabled = true;
      const response = await api("DELETE", path);
      if (response.ok) {
        hooks.onRemoved();
        status(`Training ${short} deleted.`);
      } else {
        message.replaceChildren(alertBox(await readError(response)));
        remove.disabled = false;
      }
    });
    compareBox.addEventListener("change", () => hooks.onCompare());

    function update(next) {
      const was = record.status;
      record = next;
      const active = ACTIVE.has(record.status);
      badge.className = `badge state badge-${record.status}`;
      badge.textContent = record.status;
      when.textContent = `started ${record.date || ""}`;
      const started = parseDate(record.date);
      if (record.result && record.result.duration)
        elapsed.textContent = `· took ${record.result.duration.replace(/\.\d+$/, "")}`;
      else if (active && started)
        elapsed.textContent = `· ${formatSeconds((Date.now() - started.getTime()) / 1000)} so far`;
      else elapsed.textContent = "";
      const fraction = record.progress
        ? Number(record.progress.fraction)
        : record.status === "done"
          ? 1
          : 0;
      bar.value = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
      bar.setAttribute("data-fraction", String(bar.value));
      progressText.textContent = `${Math.round(bar.value * 100)}%${record.progress && record.progress.message ? ` · ${record.progress.message}` : ""}`;
      const store = model.store || {};
      const current = record.version && store.current === record.version;
      version.replaceChildren(
        ...(record.version
          ? [
              `Version ${record.version.slice(0, 8)} `,
              current ? h("span", { class: "badge badge-done", text: "current" }) : serve,
            ]
          : []),
      );
      version.hidden = !record.version;
      message.textContent = record.status === "error" && record.message ? record.message : "";
      cancel.hidden = !active;
      cancel.disabled = false;
      remove.hidden = active;
      if (record.status === "done" && result.childElementCount === 0) {
        const output = (record.result || {}).output;
        if (output && typeof output === "object" && !Array.isArray(output)) {
          const table = h("table", { class: "result-table" }, h("caption", { text: "Result" }));
          const body = h("tbody");
          for (const [key, value] of Object.entries(output))
            body.append(
              h("tr", {}, h("th", { scope: "row", text: key }), h("td", { text: show(value) })),
            );
          table.append(body);
          result.append(table);
        } else if (output !== undefined) {
          result.append(h("p", {}, "Result: ", h("code", { text: show(output) })));
        }
      }
      if (was !== record.status && !active) hooks.onEnded(record);
      if (was !== record.status && !active && !log.hidden) {
        clearTimeout(logTimer);
        readLog().catch(() => {});
      }
    }

    return {
      el,
      update,
      showLog,
      record: () => record,
      compared: () => compareBox.checked,
      stop: () => {
        stopped = true;
        clearTimeout(logTimer);
      },
    };
  }

  // --- start --------------------------------------------------------------------------------

  setUpToken();
  window.addEventListener("hashchange", route);
  route();
})();
