// The console's entry point: the hash router (#/pods, #/pods/<id>, #/volumes,
// #/volumes/<id>, #/login), the login page (password grant or a pasted token) and the
// header. Each page gets an AbortSignal that ends its live streams when the page changes.

import { login, session } from "./api.js";
import { podPage, podsPage } from "./pods.js";
import { volumePage, volumesPage } from "./volumes.js";
import { fail, field, form, h, notice } from "./views.js";

let pageAbort = new AbortController();

function loginPage(main) {
  const next = () => {
    if (!location.hash || location.hash === "#/login") location.hash = "#/pods";
    else render();
  };
  main.append(
    h("h1", {}, "Log in"),
    form("Dev login", [
      field("User name", h("input", { name: "username", autocomplete: "username", required: true })),
      field("Password", h("input", { name: "password", type: "password",
        autocomplete: "current-password", required: true })),
      h("button", { class: "primary", type: "submit" }, "Log in"),
    ], async (data) => {
      await login(data.get("username"), data.get("password"));
      notice("");
      next();
    }),
    h("h2", {}, "Or use a token"),
    form("Token login", [
      field("Access token (JWT)", h("textarea", { name: "token", rows: 3, cols: 60, required: true })),
      h("button", { type: "submit" }, "Use token"),
    ], async (data) => {
      session.save(data.get("token").trim(), "");
      next();
    }),
  );
}

const routes = [
  [/^#\/pods\/([^/]+)$/, podPage],
  [/^#\/pods\/?$/, podsPage],
  [/^#\/volumes\/([^/]+)$/, volumePage],
  [/^#\/volumes\/?$/, volumesPage],
];

function render() {
  pageAbort.abort();
  pageAbort = new AbortController();
  const main = document.getElementById("main");
  main.replaceChildren();
  const loggedIn = Boolean(session.token());
  document.getElementById("logout").hidden = !loggedIn;
  document.getElementById("who").textContent = loggedIn ? session.user() : "";
  const hash = location.hash || "#/pods";
  if (!loggedIn || hash === "#/login") {
    loginPage(main);
    return;
  }
  for (const [pattern, page] of routes) {
    const match = hash.match(pattern);
    if (match) {
      const args = match.slice(1).map(decodeURIComponent);
      Promise.resolve(page(main, pageAbort.signal, ...args)).catch(fail);
      main.focus();
      return;
    }
  }
  main.append(h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/pods" }, "Back to pods")));
}

document.getElementById("logout").addEventListener("click", () => {
  session.clear();
  notice("Logged out.");
  location.hash = "#/login";
  render();
});
window.addEventListener("hashchange", () => { notice(""); render(); });
render();
