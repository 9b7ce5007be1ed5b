// Integrations: status, masked settings, resource lists with "Refresh lists"; and the sources, with how each
// polled one fares, and "Poll again" for one left out after its poll stopped the hub.
import { get, post } from "../api.js";
import { h, replace, note, table, when, json, count } from "../dom.js";

// A cached item's value as text: ids and names are strings, anything else JSON.
function cell(value) {
  if (value === undefined || value === null) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function itemsTable(items) {
  if (!items.length) return h("p.muted", "The list is empty.");
  const keys = [...new Set(["id", "name", ...items.flatMap((item) => Object.keys(item))])].filter((k) =>
    items.some((item) => k in item),
  );
  return table(keys, items.map((item) => h("tr", keys.map((k) => h("td", cell(item[k]))))), { class: "list-items" });
}

// The cached items of one list (the ids that rules name), fetched when first opened.
function listItems(integration, list) {
  if (!list.refreshed_at) return null;
  const body = h("div");
  let loaded = false;
  const details = h(
    "details.items",
    {
      ontoggle: async () => {
        if (!details.open || loaded) return;
        loaded = true;
        replace(body, h("p.loading", "Loading…"));
        try {
          const path = `/api/integrations/${encodeURIComponent(integration.id)}/lists/${encodeURIComponent(list.name)}`;
          replace(body, itemsTable((await get(path)).items));
        } catch (e) {
          loaded = false;
          replace(body, note("error", e.message));
        }
      },
    },
    h("summary", "Show items"),
    body,
  );
  return details;
}

function listsTable(integration) {
  if (!integration.lists.length) return h("p.muted", "This connector has no resource lists.");
  return table(
    ["List", "Items", "Refreshed", ""],
    integration.lists.map((l) =>
      h(
        "tr",
        { dataset: { list: l.name } },
        h("td", h("strong", l.name), l.description ? h("div.muted", l.description) : null, listItems(integration, l)),
        // A list never fetched has no items yet: not an empty list on the remote.
        h("td.count", l.refreshed_at ? String(l.count) : "—"),
        h("td", l.refreshed_at ? when(l.refreshed_at) : "never fetched"),
        h(
          "td",
          !l.refreshed_at
            ? h("span.badge.state-failed", "not fetched")
            : l.stale
              ? h("span.badge.state-failed", "stale")
              : h("span.badge.state-succeeded", "fresh"),
        ),
      ),
    ),
    { class: "lists" },
  );
}

function refreshResults(result) {
  return h(
    "ul.results",
    result.lists.map((l) =>
      h(
        "li",
        l.ok
          ? note("ok", `${l.name}: ${count(l.count, "item")} (${count(l.requests, "request")}, ${l.duration_ms} ms)`)
          : note("error", `${l.name}: ${l.outcome}: ${l.error}`),
      ),
    ),
  );
}

function card(integration, reload) {
  const status = h("div.refresh-status");
  const button = h(
    "button",
    {
      type: "button",
      disabled: !integration.available,
      onclick: async () => {
        button.disabled = true;
        replace(status, note("info", "Refreshing…"));
        let result;
        try {
          result = await post(`/api/integrations/${encodeURIComponent(integration.id)}/lists/refresh`);
        } catch (e) {
          // 502: some list failed; the body still says which.
          if (!(e.body && e.body.lists)) {
            replace(status, note("error", e.message));
            button.disabled = false;
            return;
          }
          result = e.body;
        }
        await reload(integration.id, refreshResults(result));
      },
    },
    "Refresh lists",
  );
  return h(
    "section.card.integration",
    { dataset: { integration: integration.id } },
    h(
      "div.heading",
      h("h2", integration.id),
      h("span.muted", `${integration.connector}${integration.connector_version ? " " + integration.connector_version : ""}`),
      integration.available ? h("span.badge.state-succeeded", "available") : h("span.badge.state-dead", "unavailable"),
    ),
    integration.reason ? note("error", integration.reason) : null,
    h(
      "details",
      h("summary", "Settings (secrets masked) and actions"),
      json(integration.settings),
      h("p", "Actions: ", integration.actions.join(", ") || "none"),
    ),
    h("h3", "Resource lists"),
    listsTable(integration),
    integration.lists.length ? h("div.actions", button) : null,
    status,
  );
}

// An interval in words: 200 ms, 30 s, 5 min, 1 h.
function every(ms) {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000 || ms % 60000) return `${ms / 1000} s`;
  return ms % 3600000 ? `${ms / 60000} min` : `${ms / 3600000} h`;
}

// How a source receives its events: the path to give the cart, or its polls.
function receives(s) {
  if (s.path) return h("code", s.path);
  if (!s.poll) return s.kind === "import" ? "imported with cartwire import" : "—";
  const p = s.poll;
  return h(
    "span.poll",
    `polled every ${every(p.every_ms)}`,
    h("br"),
    h("small.muted", p.polling_node ? `polling now on ${p.polling_node}` : `last ${when(p.polled_at)}, next ${when(p.next_at)}`),
  );
}

function sourceStatus(s) {
  if (!s.available) return h("span.badge.state-dead", s.reason);
  if (s.poll && s.poll.failures > 0)
    return h(
      "span.poll-failing",
      h("span.badge.state-failed", `${count(s.poll.failures, "failed poll")} in a row`),
      " ",
      s.poll.last_error,
    );
  return h("span.badge.state-succeeded", "available");
}

// A source left out after its poll stopped the hub is polled again on the operator's word, asked first: the
// same poll may stop the hub again unless its connector was fixed.
function pollAgain(s, done) {
  const status = h("div.poll-again-status");
  const go = async (button) => {
    button.disabled = true;
    replace(status, note("info", "Asking…"));
    try {
      const result = await post(`/api/sources/${encodeURIComponent(s.id)}/poll-again`);
      if (result.reload) window.dispatchEvent(new Event("cartwire:reloaded"));
      await done(note(result.ok ? "ok" : "error", result.message));
    } catch (e) {
      replace(status, note("error", e.message));
      button.disabled = false;
    }
  };
  const ask = h(
    "button.secondary",
    {
      type: "button",
      onclick: () => {
        const sure = h("button", { type: "button", onclick: () => go(sure) }, "Poll it again");
        // Its creation, rather than a poll, may be what stopped the hub (a webhook source's too).
        const what = /as it was created/.test(s.reason || "") ? `Creating ${s.id}` : `A poll of ${s.id}`;
        replace(
          status,
          note(
            "warn",
            `${what} stopped the hub before, and may stop it again: ` +
              "upgrade or fix its connector (and reload) first. Every node polls it again. ",
            sure,
          ),
        );
      },
    },
    "Poll again",
  );
  return h("div.poll-again", ask, status);
}

export async function integrations(main, params, search, live) {
  const [list, sources] = await Promise.all([get("/api/integrations"), get("/api/sources")]);
  if (!live()) return;
  const cards = h("div.cards");
  const reload = async (id, results) => {
    const fresh = await get(`/api/integrations/${encodeURIComponent(id)}`);
    const old = cards.querySelector(`[data-integration="${CSS.escape(id)}"]`);
    const next = card(fresh, reload);
    next.querySelector(".refresh-status").appendChild(results);
    old.replaceWith(next);
  };
  for (const integration of list.items) cards.appendChild(card(integration, reload));
  const polledAgain = async (said) => {
    await integrations(main, params, search, live);
    const sourcesTable = main.querySelector("table.sources");
    if (sourcesTable) sourcesTable.after(said);
  };
  replace(
    main,
    h("h1", "Integrations"),
    list.items.length ? cards : note("info", "No integrations are configured."),
    h("h2", "Sources"),
    table(
      ["Source", "Connector", "Receives", "Status"],
      sources.items.map((s) =>
        h(
          "tr",
          { "data-source": s.id },
          h("td", s.id),
          h("td", s.connector),
          h("td", receives(s)),
          h("td", sourceStatus(s), s.left_out ? pollAgain(s, polledAgain) : null),
        ),
      ),
      { class: "sources" },
    ),
  );
}
