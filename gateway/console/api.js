// The console's access to the Pods REST API (same origin): the token kept in sessionStorage,
// JSON calls, and live updates per the streaming contract (text/event-stream read with fetch,
// since EventSource cannot send X-Tapis-Token), falling back to polling every 2 s where the
// streaming paths are missing (a real Tapis deployment, or an older gateway).

const TOKEN_KEY = "pods.token";
const USER_KEY = "pods.user";
export const POLL_MS = 2000;

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  user: () => sessionStorage.getItem(USER_KEY) || "",
  save(token, user) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, user || "");
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
};

export class ApiError extends Error {
  constructor(status, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
  }
}

function headers(extra) {
  const h = { ...extra };
  const token = session.token();
  if (token) h["X-Tapis-Token"] = token;
  return h;
}

async function failure(response) {
  const text = await response.text();
  let message = text;
  try {
    message = JSON.parse(text).message || text;
  } catch {
    // not JSON: keep the text
  }
  return new ApiError(response.status, message || response.statusText);
}

// A JSON call; returns the envelope's `result`.
export async function call(method, path, body) {
  const init = { method, headers: headers({ Accept: "application/json" }) };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await failure(response);
  const data = await response.json();
  return data.result;
}

// Raw bytes: uploads (the body is the file) and downloads (returns a Blob).
export async function upload(path, file) {
  const response = await fetch(path, {
    method: "POST",
    headers: headers({ "Content-Type": "application/octet-stream" }),
    body: file,
  });
  if (!response.ok) throw await failure(response);
  return (await response.json()).result;
}

export async function download(path) {
  const response = await fetch(path, { headers: headers({}) });
  if (!response.ok) throw await failure(response);
  return response.blob();
}

export async function login(username, password) {
  const response = await fetch("/v3/oauth2/tokens", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ username, password, grant_type: "password" }),
  });
  if (!response.ok) throw await failure(response);
  const token = (await response.json()).result.access_token.access_token;
  session.save(token, username);
  return token;
}

// Reads a text/event-stream response, calling onEvent({id, event, data}) for each event.
async function readEvents(response, onEvent, cursor) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = { data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end).replace(/\r$/, "");
      buffer = buffer.slice(end + 1);
      if (line === "") {
        if (event.data.length) {
          if (event.id !== undefined) cursor.id = event.id;
          onEvent({ id: event.id, event: event.event || "message", data: event.data.join("\n") });
        }
        event = { data: [] };
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") event.data.push(text);
        else if (field === "id") event.id = text;
        else if (field === "event") event.event = text;
      }
    }
  }
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });

// Keeps `onEvent` fed from the stream at `path` until `signal` aborts, reconnecting with
// Last-Event-ID when it drops. When the server has no such stream (any 4xx but 401/403
// before it starts), calls `poll()` every 2 s instead. `onMode` hears "live" or "polling".
export async function follow(path, { onEvent, poll, onMode, signal }) {
  const cursor = {};
  while (!signal.aborted) {
    let response;
    try {
      const h = headers({ Accept: "text/event-stream" });
      if (cursor.id !== undefined) h["Last-Event-ID"] = cursor.id;
      response = await fetch(path, { headers: h, signal });
    } catch {
      if (signal.aborted) return;
      await sleep(POLL_MS, signal);
      continue;
    }
    const type = response.headers.get("content-type") || "";
    if (response.ok && type.startsWith("text/event-stream")) {
      onMode("live");
      try {
        await readEvents(response, onEvent, cursor);
      } catch {
        // dropped: reconnect below
      }
      if (!signal.aborted) await sleep(1000, signal);
      continue;
    }
    if (response.status === 401 || response.status === 403 || response.status >= 500) {
      await sleep(POLL_MS, signal);
      continue;
    }
    onMode("polling");
    while (!signal.aborted) {
      try {
        await poll();
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return;
      }
      await sleep(POLL_MS, signal);
    }
  }
}
