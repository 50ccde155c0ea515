// The console's pod pages: the list with live status and the create form, and a pod's page
// (details, status history, live logs, credentials on click, connect lines, lifecycle
// buttons, sharing). Called by app.js's router.

import { call, follow } from "./api.js";
import {
  details, fail, field, form, h, notice, select, statusBadge, time,
} from "./views.js";

const enc = encodeURIComponent;

function liveNote(element) {
  return (mode) => {
    element.textContent = mode === "live" ? "Live updates." : "Refreshing every 2 s.";
  };
}

function podRow(pod) {
  return h(
    "tr",
    { "data-pod": pod.pod_id },
    h("td", {}, h("a", { href: `#/pods/${enc(pod.pod_id)}` }, pod.pod_id)),
    h("td", {}, statusBadge(pod.status)),
    h("td", {}, pod.template ? `template ${pod.template}` : pod.image),
    h("td", {}, pod.description || ""),
    h("td", {}, time(pod.creation_ts)),
  );
}

async function createForm(onCreated) {
  let templates = [];
  try {
    templates = (await call("GET", "/v3/pods/templates")) || [];
  } catch {
    // templates are optional: images still work
  }
  const choices = templates.map((t) => [t.template_id, t.template_id]);
  return form("Create a pod", [
    field("Pod id", h("input", { name: "pod_id", required: true, pattern: "[a-z][a-z0-9]*",
      title: "lowercase letters and digits, starting with a letter" })),
    field("Template", select("template", [["", "(none: use the image)"], ...choices], "")),
    field("or image", h("input", { name: "image", placeholder: "pods-http:latest" })),
    field("Description", h("input", { name: "description" })),
    h("button", { class: "primary", type: "submit" }, "Create pod"),
  ], async (data, element) => {
    const body = { pod_id: data.get("pod_id") };
    if (data.get("template")) body.template = data.get("template");
    else body.image = data.get("image");
    if (data.get("description")) body.description = data.get("description");
    await call("POST", "/v3/pods", body);
    notice(`Pod ${body.pod_id} requested.`);
    element.reset();
    onCreated(body.pod_id);
  });
}

export async function podsPage(main, signal) {
  const tbody = h("tbody");
  const rows = new Map();
  const show = (pod) => {
    const old = rows.get(pod.pod_id);
    const signature = JSON.stringify([pod.status, pod.description, pod.image, pod.template]);
    if (old?.dataset.signature === signature) return; // unchanged: keep focus and selection
    const row = podRow(pod);
    row.dataset.signature = signature;
    if (old) old.replaceWith(row); else tbody.append(row);
    rows.set(pod.pod_id, row);
  };
  // A list read must not undo what the watch said after the read began: `events` counts the
  // watch's events, `touched` remembers the count when one last named each pod.
  let events = 0;
  const touched = new Map();
  const refresh = async () => {
    const since = events;
    const pods = (await call("GET", "/v3/pods")) || [];
    const current = (id) => (touched.get(id) ?? 0) <= since;
    const seen = new Set(pods.map((p) => p.pod_id));
    for (const [id, row] of rows) {
      if (!seen.has(id) && current(id)) { row.remove(); rows.delete(id); }
    }
    pods.filter((p) => current(p.pod_id)).forEach(show);
  };
  const mode = h("p", { class: "live", "aria-live": "off" });
  main.append(
    h("h1", {}, "Pods"),
    mode,
    h("table", {},
      h("thead", {}, h("tr", {}, ["Pod", "Status", "From", "Description", "Created"]
        .map((c) => h("th", { scope: "col" }, c)))),
      tbody),
    h("h2", {}, "Create a pod"),
    await createForm(() => refresh().catch(fail)),
  );
  await refresh();
  const note = liveNote(mode);
  follow("/v3/pods?watch=true", {
    signal,
    poll: refresh,
    onMode: (state) => {
      note(state);
      // The watch announces the deletion only of pods it has seen: read the list again once
      // it is open, so a pod gone before it began (or while it reconnected) leaves too.
      if (state === "live") refresh().catch(fail);
    },
    onEvent: ({ event, data }) => {
      const change = JSON.parse(data);
      touched.set(change.pod_id, ++events);
      const row = rows.get(change.pod_id);
      if (event === "deleted") { row?.remove(); rows.delete(change.pod_id); }
      else if (row) {
        row.querySelector(".status").replaceWith(statusBadge(change.status));
        row.dataset.signature = "";
      } else refresh().catch(fail);
    },
  });
}

function connectLines(pod, username) {
  const lines = [];
  for (const [name, net] of Object.entries(pod.networking || {})) {
    if (!net.url) continue;
    const [host, port = "443"] = net.url.split(":");
    const protocol = net.protocol || "http";
    let line;
    if (protocol === "postgres") {
      const local = host.endsWith(".localhost") ? " hostaddr=127.0.0.1" : "";
      line = `psql "host=${host}${local} port=${port} dbname=postgres` +
        ` user=${username || pod.pod_id} sslmode=verify-full sslrootcert=ca.pem"`;
    } else if (protocol === "http") {
      const local = host.endsWith(".localhost") ? ` --resolve ${net.url}:127.0.0.1` : "";
      line = `curl --cacert ca.pem${local} https://${net.url}/`;
    } else {
      line = `openssl s_client -connect ${net.url} -servername ${host} -CAfile ca.pem`;
    }
    lines.push(h("dt", {}, `${name} (${protocol})`), h("dd", {}, h("code", {}, line)));
  }
  return lines.length ? h("dl", {}, lines) : h("p", { class: "muted" }, "No network ports.");
}

function lifecycle(podId, refresh) {
  const act = (label, verb, extra = {}) => h("button", {
    type: "button", ...extra,
    onclick: async () => {
      try {
        if (verb === "delete") {
          if (!confirm(`Delete pod ${podId}?`)) return;
          await call("DELETE", `/v3/pods/${enc(podId)}`);
          notice(`Pod ${podId} deleted.`);
          location.hash = "#/pods";
          return;
        }
        await call("GET", `/v3/pods/${enc(podId)}/${verb}`);
        notice(`${label}: requested.`);
        await refresh();
      } catch (error) { fail(error); }
    },
  }, label);
  return h("div", { class: "actions" },
    act("Start", "start"), act("Stop", "stop"), act("Restart", "restart"),
    act("Delete", "delete", { class: "danger" }));
}

function sharing(podId) {
  const list = h("ul");
  const load = async () => {
    const result = await call("GET", `/v3/pods/${enc(podId)}/permissions`);
    list.replaceChildren(...(result.permissions || []).map((entry) => {
      const user = entry.split(":")[0];
      return h("li", {}, entry, " ", h("button", {
        type: "button", "aria-label": `Remove ${user}`,
        onclick: () => call("DELETE", `/v3/pods/${enc(podId)}/permissions/${enc(user)}`)
          .then(load).catch(fail),
      }, "Remove"));
    }));
  };
  load().catch((error) => {
    if (error.status !== 403) return fail(error);
    // READ may see a pod but not its grants (USER, as in Tapis): say so instead of failing.
    list.replaceChildren(h("li", {}, "Only users with USER or ADMIN on this pod see who it is shared with."));
  });
  return [list, form("Share the pod", [
    field("User", h("input", { name: "user", required: true })),
    field("Level", select("level", [["READ", "READ"], ["USER", "USER"], ["ADMIN", "ADMIN"]], "READ")),
    h("button", { type: "submit" }, "Share"),
  ], async (data, element) => {
    await call("POST", `/v3/pods/${enc(podId)}/permissions`,
      { user: data.get("user"), level: data.get("level") });
    element.reset();
    await load();
  })];
}

export async function podPage(main, signal, podId) {
  const path = `/v3/pods/${enc(podId)}`;
  const heading = h("h1", {}, `Pod ${podId} `);
  const badge = h("span");
  const info = h("div");
  const connect = h("div");
  const history = h("ol", { class: "history" });
  const actionLog = h("ol", { class: "history" });
  const logs = h("pre", { class: "logs", tabindex: 0, "aria-label": "Pod output" });
  const mode = h("p", { class: "live" });
  const logMode = h("p", { class: "live" });
  const secret = h("div");
  let last = "";
  let username = "";
  const record = (status, when) => {
    if (status === last) return;
    last = status;
    history.append(h("li", {}, statusBadge(status), " ", time(when || new Date().toISOString())));
  };
  const show = (pod) => {
    badge.replaceChildren(statusBadge(pod.status));
    record(pod.status, pod.update_ts);
    info.replaceChildren(details([
      ["Status", `${pod.status} (requested ${pod.status_requested || "?"})`],
      ["Container", pod.status_container?.message || pod.status_container?.phase],
      ["From", pod.template ? `template ${pod.template}` : pod.image],
      ["Description", pod.description],
      ["Owner", pod.owner],
      ["Created", time(pod.creation_ts)],
      ["Restarts", String(pod.restart_count ?? 0)],
      ["Last exit", pod.last_exit_reason],
    ]));
    connect.replaceChildren(connectLines(pod, username));
  };
  const refresh = async () => show(await call("GET", path));
  const writeLogs = (update) => {
    const atEnd = logs.scrollHeight - logs.scrollTop - logs.clientHeight < 40;
    update();
    if (atEnd) logs.scrollTop = logs.scrollHeight; // follow the output unless scrolled up
  };
  const refreshLogs = async () => {
    const result = await call("GET", `${path}/logs`);
    if (logs.textContent !== (result.logs || "")) writeLogs(() => { logs.textContent = result.logs || ""; });
    actionLog.replaceChildren(...(result.action_logs || []).map((line) => h("li", {}, line)));
  };
  const pod = await call("GET", path);
  heading.append(badge);
  const reveal = h("button", { type: "button", onclick: async () => {
    try {
      const creds = await call("GET", `${path}/credentials`);
      username = creds.user_username;
      secret.replaceChildren(details([
        ["User name", h("code", {}, creds.user_username)],
        ["Password", h("code", { "data-secret": "password" }, creds.user_password)],
      ]));
      reveal.hidden = true;
      await refresh();
    } catch (error) { fail(error); }
  } }, "Reveal credentials");
  main.append(
    h("p", {}, h("a", { href: "#/pods" }, "← All pods")),
    heading, mode, lifecycle(podId, refresh), info,
    h("div", { class: "grid" },
      h("section", { "aria-labelledby": "h-history" },
        h("h2", { id: "h-history" }, "Status history"), history,
        h("h3", {}, "Action log"), actionLog),
      h("section", { "aria-labelledby": "h-connect" },
        h("h2", { id: "h-connect" }, "Connect"), connect,
        h("h2", {}, "Credentials"),
        pod.template ? [reveal, secret]
          : h("p", { class: "muted" }, "Only pods made from a template have credentials."))),
    h("section", { "aria-labelledby": "h-logs" },
      h("h2", { id: "h-logs" }, "Logs"), logMode, logs),
    h("section", { "aria-labelledby": "h-sharing" },
      h("h2", { id: "h-sharing" }, "Sharing"), ...sharing(podId)),
  );
  show(pod);
  refreshLogs().catch(() => {});
  follow(`${path}/events`, {
    signal, poll: refresh, onMode: liveNote(mode),
    onEvent: ({ event, data }) => {
      if (event === "deleted") { notice(`Pod ${podId} was deleted.`); return; }
      const change = JSON.parse(data);
      record(change.status, change.time);
      refresh().catch(fail);
      if (change.action_log) refreshLogs().catch(() => {});
    },
  });
  follow(`${path}/logs?follow=true`, {
    signal, poll: refreshLogs, onMode: liveNote(logMode),
    onEvent: ({ event, data }) => {
      const chunk = JSON.parse(data);
      if (event === "run") logs.textContent = "";
      else if (event === "log") writeLogs(() => { logs.textContent += chunk.text || ""; });
    },
  });
}
