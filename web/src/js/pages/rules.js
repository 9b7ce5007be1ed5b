// Rules as loaded, with the validation report of the running configuration;
// "Reload configuration", and "Try an event": a dry run of the rules (nothing
// stored or sent) or the event stored as a test event.
import { get, post } from "../api.js";
import { h, replace, note, table, json, count } from "../dom.js";

// A canonical ThriveCart purchase (docs/events.md); the hub fills in
// occurred_at and source, and a test event gets a dedupe_key of its own.
const sampleEvent = {
  type: "product.purchased",
  mode: "live",
  customer: { email: "ann@example.com", first_name: "Ann", last_name: "Lee", name: "Ann Lee" },
  order: { id: "1514394", invoice_id: "000000004", currency: "USD", total: 4995, total_str: "49.95" },
  item: { type: "upsell", id: "13", reference: "upsell-13", name: "Coaching", amount: 4995, amount_str: "49.95" },
};

const reloadHint =
  "Reads hub.yaml and the plugins folder again. Webhooks are answered throughout and jobs already running " +
  "finish on the previous configuration; a configuration with errors is refused.";

function where(rule) {
  if (!rule.where.length) return "—";
  return rule.where.map((f) => h("div", `${f.field} ${f.op} ${f.values.join(" | ")}`));
}

function diagnostics(items) {
  return h(
    "ul.diagnostics",
    items.map((d) => h("li", note(d.severity === "error" ? "error" : "warn", d.text))),
  );
}

function report(data) {
  return [
    h(
      "p.muted",
      `From ${data.file}: ${count(data.items.length, "rule")}, ${count(data.errors, "error")}, ${count(data.warnings, "warning")}.`,
    ),
    data.diagnostics.length ? diagnostics(data.diagnostics) : note("ok", "The configuration validates without warnings."),
    table(
      ["Rule", "On", "Product", "Where", "Do", "With", "Line"],
      data.items.map((r) =>
        h(
          "tr",
          h("td", [r.name, r.idle ? h("div", h("span.badge.state-dead", "idle: fix its errors")) : null]),
          h("td", [].concat(r.on).join(", ")),
          h("td", r.product || "all"),
          h("td", where(r)),
          h("td", h("code", `${r.integration}.${r.action}`)),
          h("td", Object.keys(r.params || {}).length ? h("pre.json.inline", JSON.stringify(r.params)) : "—"),
          h("td", String(r.line)),
        ),
      ),
      { class: "rules" },
    ),
  ];
}

function reloadResult(r) {
  const restart = r.restart_required || [];
  return [
    note(r.ok ? "ok" : "error", r.message),
    restart.length ? note("info", `Takes effect after a restart: ${restart.join(", ")}.`) : null,
    r.diagnostics && r.diagnostics.length ? diagnostics(r.diagnostics) : null,
  ];
}

function objectOrNothing(value) {
  return value && Object.keys(value).length ? h("pre.json.inline", JSON.stringify(value, null, 2)) : "—";
}

function planResult(r) {
  return [
    r.jobs.length
      ? note("ok", `${r.jobs.length} rule(s) match. Nothing was stored or sent.`)
      : note("info", "No rule matches this event: nothing would be sent."),
    r.jobs.length
      ? table(
          ["Rule", "Do", "Parameters", "Fields", "Would send"],
          r.jobs.map((j) =>
            h(
              "tr",
              { dataset: { rule: j.rule } },
              h("td", j.rule, j.ordering_key ? h("div.muted", `ordering key: ${j.ordering_key}`) : null),
              h(
                "td",
                h("code", `${j.integration}.${j.action}`),
                j.integration_available ? null : h("div", h("span.badge.state-dead", "unavailable")),
              ),
              h("td", objectOrNothing(j.params)),
              h("td", objectOrNothing(j.fields)),
              h("td", wouldSend(j)),
            ),
          ),
          { class: "planned" },
        )
      : null,
    h("details", h("summary", "The event as the rules saw it"), json(r.event)),
  ];
}

// The requests of a dry run, each answered as by a remote that knows nothing yet.
function wouldSend(job) {
  if (!job.requests || !job.requests.length) return job.message ? h("div.muted", job.message) : "—";
  return job.requests.map((r) =>
    h("details.request", h("summary", h("code", `${r.method} ${r.url}`)), r.body ? h("pre.json.inline", r.body) : null),
  );
}

function testResult(r) {
  const link = h("a", { href: `#/events/${r.event_id}` }, `#${r.event_id}`);
  return [
    r.duplicate
      ? note("info", "A test event with this dedupe_key was stored before (", link, "); nothing new was stored.")
      : note("ok", "Stored as test event ", link, ` with ${r.jobs} job(s).`),
    h(
      "dl.facts.test-event",
      h("dt", "Event"), h("dd", h("a", { href: `#/events/${r.event_id}` }, `#${r.event_id}`), ` ${r.event.type}`),
      h("dt", "Duplicate"), h("dd", r.duplicate ? "yes" : "no"),
      h("dt", "Jobs created"), h("dd", String(r.jobs)),
      h("dt", "Mode"), h("dd", r.event.mode),
    ),
  ];
}

function tryPanel() {
  const input = h("textarea", {
    id: "try-event",
    name: "event",
    rows: 16,
    spellcheck: "false",
    autocomplete: "off",
    value: JSON.stringify(sampleEvent, null, 2),
  });
  const result = h("div.try-result", { "aria-live": "polite" });
  const buttons = [];

  // The textarea's event, or null after saying why it cannot be sent.
  function event() {
    let value;
    try {
      value = JSON.parse(input.value);
    } catch (e) {
      replace(result, note("error", `The event is not valid JSON: ${e.message}`));
      return null;
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) {
      replace(result, note("error", 'The event must be a JSON object, such as {"type": "product.purchased", ...}.'));
      return null;
    }
    return value;
  }

  function button(spec, id, text, path, busy, show) {
    const b = h(
      spec,
      {
        type: "button",
        id,
        onclick: async () => {
          const value = event();
          if (!value) return;
          for (const other of buttons) other.disabled = true;
          replace(result, note("info", busy));
          try {
            replace(result, show(await post(path, { event: value })));
          } catch (e) {
            replace(result, note("error", e.message));
          } finally {
            for (const other of buttons) other.disabled = false;
          }
        },
      },
      text,
    );
    buttons.push(b);
    return b;
  }

  return h(
    "section.card.try",
    h("h2", "Try an event"),
    h(
      "p.muted",
      "A canonical event (see events.md). ",
      h("strong", "Dry run"),
      " shows which rules match and what each action would send, without storing or sending anything. ",
      h("strong", "Send as test event"),
      " stores it with source admin-test and mode test (rules filtered on mode live skip it) and runs its jobs.",
    ),
    h("label", { for: "try-event" }, "Event (JSON)"),
    input,
    h(
      "div.actions",
      button("button", "dry-run", "Dry run", "/api/dry-run", "Planning…", planResult),
      button("button.secondary", "send-test", "Send as test event", "/api/events/test", "Sending…", testResult),
    ),
    result,
  );
}

export async function rules(main, params, search, live) {
  const data = await get("/api/rules");
  if (!live()) return;
  const current = h("div.rules-report", report(data));
  const status = h("div.reload-status");
  const reload = h(
    "button",
    {
      type: "button",
      id: "reload",
      onclick: async () => {
        reload.disabled = true;
        replace(status, note("info", "Reloading…"));
        let r;
        try {
          r = await post("/api/reload");
        } catch (e) {
          window.dispatchEvent(new Event("cartwire:reloaded"));
          // 422: refused; the body says why, and the previous configuration still runs.
          replace(status, e.body && e.body.message ? reloadResult(e.body) : note("error", e.message));
          reload.disabled = false;
          return;
        }
        replace(status, reloadResult(r));
        window.dispatchEvent(new Event("cartwire:reloaded"));
        try {
          const fresh = await get("/api/rules");
          if (live()) replace(current, report(fresh));
        } catch (e) {
          status.appendChild(note("error", `The rules could not be shown again: ${e.message}`));
        }
        reload.disabled = false;
      },
    },
    "Reload configuration",
  );
  replace(
    main,
    h("h1", "Rules"),
    h(
      "div.actions",
      reload,
      h("span.muted.hint", reloadHint),
    ),
    status,
    current,
    tryPanel(),
  );
}
