// DOM helpers of the console: elements built from data (never from HTML strings, so nothing
// the API returns can inject markup), the notice line, and small shared pieces.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "text") element.textContent = value;
    else if (value === true) element.setAttribute(key, "");
    else element.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function notice(message, { error = false } = {}) {
  const line = document.getElementById("notice");
  line.textContent = message || "";
  line.classList.toggle("error", error);
}

export function fail(error) {
  notice(error.message || String(error), { error: true });
}

export function statusBadge(status) {
  return h("span", { class: `status ${status || ""}`, "data-status": status || "" }, status || "?");
}

export function field(label, input) {
  return h("label", {}, label, input);
}

export function select(name, options, value) {
  return h(
    "select",
    { name },
    options.map(([optionValue, text]) =>
      h("option", { value: optionValue, selected: optionValue === value }, text),
    ),
  );
}

export function table(caption, columns, rows) {
  return h(
    "table",
    {},
    h("caption", { class: "muted", style: null }, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows),
  );
}

export function details(pairs) {
  return h(
    "dl",
    {},
    pairs.filter(([, value]) => value !== undefined && value !== "").flatMap(([key, value]) => [
      h("dt", {}, key),
      h("dd", {}, value),
    ]),
  );
}

// A form whose submit runs `action(FormData)`, its submit button disabled meanwhile.
export function form(label, children, action) {
  const element = h("form", { "aria-label": label }, children);
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    const buttons = element.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      await action(new FormData(element), element);
    } catch (error) {
      fail(error);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });
  return element;
}

export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Tapis prints times in UTC without an offset (`2024-03-18T11:36:05.123456`), which Date
// would read as local time: say it is UTC.
export function time(value) {
  if (!value) return "";
  const utc = /(Z|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`;
  return new Date(utc).toLocaleString();
}
