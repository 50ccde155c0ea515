// The console's volume pages: the list with a create form, and a volume's file browser
// (folders, download, upload, delete the volume). Called by app.js's router.

import { call, download, upload } from "./api.js";
import { details, fail, field, form, h, notice, saveBlob, time } from "./views.js";

const enc = encodeURIComponent;
const encPath = (path) => path.split("/").map(enc).join("/");

export async function volumesPage(main) {
  const tbody = h("tbody");
  const refresh = async () => {
    const volumes = (await call("GET", "/v3/pods/volumes")) || [];
    tbody.replaceChildren(...volumes.map((v) => h("tr", { "data-volume": v.volume_id },
      h("td", {}, h("a", { href: `#/volumes/${enc(v.volume_id)}` }, v.volume_id)),
      h("td", {}, v.status),
      h("td", {}, String(v.size ?? "")),
      h("td", {}, v.description || ""),
      h("td", {}, time(v.creation_ts)))));
  };
  main.append(
    h("h1", {}, "Volumes"),
    h("table", {},
      h("thead", {}, h("tr", {}, ["Volume", "Status", "Size (MB)", "Description", "Created"]
        .map((c) => h("th", { scope: "col" }, c)))),
      tbody),
    h("h2", {}, "Create a volume"),
    form("Create a volume", [
      field("Volume id", h("input", { name: "volume_id", required: true, pattern: "[a-z][a-z0-9]*" })),
      field("Description", h("input", { name: "description" })),
      h("button", { class: "primary", type: "submit" }, "Create volume"),
    ], async (data, element) => {
      const body = { volume_id: data.get("volume_id") };
      if (data.get("description")) body.description = data.get("description");
      await call("POST", "/v3/pods/volumes", body);
      notice(`Volume ${body.volume_id} created.`);
      element.reset();
      await refresh();
    }),
  );
  await refresh();
}

export async function volumePage(main, signal, volumeId) {
  const base = `/v3/pods/volumes/${enc(volumeId)}`;
  const volume = await call("GET", base);
  let folder = "";
  const where = h("p", { "aria-live": "polite" });
  const tbody = h("tbody");
  const open = async (path) => {
    folder = path;
    const query = path ? `?path=${enc(path)}` : "";
    const files = (await call("GET", `${base}/list${query}`)) || [];
    where.textContent = `Folder: /${folder}`;
    const rows = [];
    if (folder) {
      const up = folder.split("/").slice(0, -1).join("/");
      rows.push(h("tr", {}, h("td", {}, h("button", { type: "button",
        onclick: () => open(up).catch(fail) }, "⬑ Up")), h("td"), h("td"), h("td")));
    }
    for (const file of files) {
      let path = file.path.replace(/^\/+/, "");
      if (folder && !path.startsWith(`${folder}/`)) path = `${folder}/${path}`;
      const isDir = file.type === "dir";
      const name = file.name || path.split("/").pop();
      rows.push(h("tr", { "data-file": path },
        h("td", {}, isDir
          ? h("button", { type: "button", onclick: () => open(path).catch(fail) }, `${name}/`)
          : name),
        h("td", {}, isDir ? "folder" : `${file.size} bytes`),
        h("td", {}, time(file.lastModified)),
        h("td", {}, isDir ? "" : h("button", {
          type: "button", "aria-label": `Download ${name}`,
          onclick: () => download(`${base}/contents/${encPath(path)}`)
            .then((blob) => saveBlob(blob, name)).catch(fail),
        }, "Download"))));
    }
    tbody.replaceChildren(...rows);
  };
  main.append(
    h("p", {}, h("a", { href: "#/volumes" }, "← All volumes")),
    h("h1", {}, `Volume ${volumeId}`),
    details([["Status", volume.status], ["Description", volume.description],
      ["Owner", volume.owner], ["Created", time(volume.creation_ts)]]),
    h("h2", {}, "Files"),
    where,
    h("table", {},
      h("thead", {}, h("tr", {}, ["Name", "Size", "Modified", ""]
        .map((c) => h("th", { scope: "col" }, c)))),
      tbody),
    h("h2", {}, "Upload"),
    form("Upload a file", [
      field("File", h("input", { name: "file", type: "file", required: true })),
      field("Save as (path in the volume; default: this folder)", h("input", { name: "path" })),
      h("button", { class: "primary", type: "submit" }, "Upload"),
    ], async (data, element) => {
      const file = data.get("file");
      const target = data.get("path") || [folder, file.name].filter(Boolean).join("/");
      await upload(`${base}/upload/${encPath(target)}`, file);
      notice(`Uploaded ${target}.`);
      element.reset();
      await open(folder);
    }),
    h("h2", {}, "Delete"),
    h("button", { type: "button", class: "danger", onclick: async () => {
      if (!confirm(`Delete volume ${volumeId} and its files?`)) return;
      try {
        await call("DELETE", base);
        location.hash = "#/volumes";
      } catch (error) { fail(error); }
    } }, "Delete volume"),
  );
  await open("");
}
