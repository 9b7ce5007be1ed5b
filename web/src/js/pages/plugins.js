// Connector plugins: loaded, let go by a reload while calls on them finish, and rejected files with the reason.
import { get } from "../api.js";
import { h, replace, note, table } from "../dom.js";

// A connector's version, with its earlier versions still loaded: finishing calls, or kept for what they left
// calling their code (a thread, a timer, a thread key's destructor, a signal handler).
function versionCell(p) {
  return h(
    "td",
    p.version,
    (p.finishing || []).length > 0 && h("div.muted", `${p.finishing.join(", ")} finishing the calls under way`),
    (p.kept || []).length > 0 &&
      h("div.muted", `${p.kept.join(", ")} left a thread, timer, thread key or signal handler calling its code: loaded until the hub restarts`),
  );
}

export async function plugins(main, params, search, live) {
  const data = await get("/api/plugins");
  if (!live()) return;
  replace(
    main,
    h("h1", "Plugins"),
    h("h2", "Loaded"),
    table(
      ["Connector", "Version", "Calls", "Actions", "Triggers", "Lists", "File"],
      data.loaded.map((p) =>
        h(
          "tr",
          h("td", h("strong", p.id), h("div.muted", p.name)),
          versionCell(p),
          h(
            "td",
            { title: p.calls_why },
            p.calls === "json" ? ["JSON", h("div.muted", p.calls_why)] : p.calls || "— (not used yet)",
          ),
          h("td", (p.actions || []).join(", ") || "—"),
          h("td", (p.triggers || []).join(", ") || "—"),
          h("td", (p.lists || []).join(", ") || "—"),
          h("td", h("code", p.path)),
        ),
      ),
      { class: "plugins" },
    ),
    (data.removed || []).length > 0 && [
      h("h2", "Removed"),
      note("info", "Let go by a reload: the file is gone from the plugins folder. Each is unloaded once the calls under way on it end."),
      table(
        ["Connector", "Version", "File"],
        data.removed.map((p) =>
          h(
            "tr",
            h("td", h("strong", p.id), h("div.muted", p.name)),
            versionCell(p),
            h("td", h("code", p.path)),
          ),
        ),
        { class: "removed" },
      ),
    ],
    h("h2", "Rejected"),
    data.rejected.length
      ? table(
          ["File", "Reason"],
          data.rejected.map((r) => h("tr", h("td", h("code", r.path)), h("td", note("error", r.reason)))),
          { class: "rejected" },
        )
      : note("ok", "Every file in the plugins folder loaded."),
  );
}
