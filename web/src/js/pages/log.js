// The execution log: search jobs, open one (event, attempts with their
// redacted requests and responses), replay failed and dead ones.
import { get, post } from "../api.js";
import { h, replace, note, table, when, badge, json, query, olderButton, count } from "../dom.js";

const filters = [
  ["email", "Email", "email"],
  ["order_id", "Order id", "text"],
  ["item", "Product (item reference, * = prefix)", "text"],
  ["integration", "Integration", "text"],
  ["since", "Since", "datetime-local"],
  ["until", "Until", "datetime-local"],
];
const states = ["", "queued", "running", "succeeded", "failed", "dead"];

// datetime-local values are local times; the API wants RFC 3339.
function toApiTime(value) {
  return value ? new Date(value).toISOString() : "";
}

function searchOf(search) {
  const out = {};
  for (const [key] of filters) out[key] = search.get(key) || "";
  out.state = search.get("state") || "";
  return out;
}

function apiFilter(values) {
  return { ...values, since: toApiTime(values.since), until: toApiTime(values.until) };
}

// Which rule a replay sends by ("rule" of the replay API), with what each choice means.
function ruleChoice(name) {
  const option = (value, label, text) =>
    h(
      "label.choice",
      h("input", { type: "radio", name, value, id: `${name}-${value}`, checked: value === "original" }),
      " ",
      h("strong", label),
      `: ${text}`,
    );
  return h(
    "fieldset.replay-rule",
    h("legend", "Replay with"),
    option(
      "original",
      "the original rule",
      "sends the parameters the job was made with (under Parameters), as they were when its event arrived.",
    ),
    option(
      "current",
      "the rule as it is now",
      "works the parameters out again from the event and the rule of the same name in the running hub.yaml, as a " +
        "new event would get them: after fixing a wrong value in a rule (a course, a tag, a URL) and reloading. " +
        "A job whose rule is gone, runs another action or no longer takes its event is not replayed, and you see why.",
    ),
  );
}

function chosenRule(choice) {
  const checked = choice.querySelector("input:checked");
  return checked ? checked.value : "original";
}

function replayLine(r) {
  return h(
    "li",
    `After attempt ${r.after_attempt}, ${when(r.at)}: `,
    r.rule === "current"
      ? ["replayed with the rule as it was then; the parameters it had until then:", json(r.replaced_params)]
      : "replayed with the original rule.",
  );
}

// An event's type, with its product (item reference) under it.
function typeCell(event) {
  return h("td", event.type, event.item_reference ? h("div.muted", event.item_reference) : null);
}

// The customer's email, leading to their timeline.
function customerCell(email) {
  return h("td", email ? h("a", { href: `#/customers${query({ email })}` }, email) : "—");
}

function jobRow(job) {
  return h(
    "tr",
    { dataset: { job: job.id } },
    h("td", h("a", { href: `#/jobs/${job.id}` }, `#${job.id}`)),
    h("td", when(job.created_at)),
    typeCell(job.event),
    customerCell(job.event.email),
    h("td", job.event.order_id || "—"),
    h("td", h("code", `${job.integration}.${job.action}`)),
    h("td", badge(job.state)),
    h("td", String(job.attempts)),
    h("td.error", job.last_error || ""),
  );
}

function eventRow(event) {
  return h(
    "tr",
    { dataset: { event: event.id } },
    h("td", h("a", { href: `#/events/${event.id}` }, `#${event.id}`)),
    h("td", when(event.received_at)),
    typeCell(event),
    customerCell(event.email),
    h("td", event.order_id || "—"),
    h("td", `${event.source} (${event.mode})`),
  );
}

// No job matches. Events that match the search's event fields arrived all the
// same: said so, since a webhook no rule matched makes no job.
async function noJobs(filter) {
  const none = note("info", "No jobs match this search.");
  if (filter.integration || filter.state) return none;
  const events = await get(`/api/events${query({ ...filter, limit: 50 })}`);
  if (!events.items.length) return none;
  return [
    none,
    h("p", "Events that match it but have no job (no rule matched them, or retention removed their jobs), newest first:"),
    table(["Event", "Received", "Type", "Email", "Order", "Source"], events.items.map(eventRow), { class: "events" }),
  ];
}

export function jobsTable(jobs) {
  return table(
    ["Job", "Created", "Event", "Email", "Order", "Action", "State", "Attempts", "Last error"],
    jobs.map(jobRow),
    { class: "jobs" },
  );
}

// The execution log as last searched: a job or event opened from it links back to that search.
let lastSearch = "#/log";

export async function log(main, params, search, live) {
  lastSearch = `#/log${query(Object.fromEntries(search))}`;
  const values = searchOf(search);
  const inputs = {};
  const form = h(
    "form.search",
    {
      onsubmit: (ev) => {
        ev.preventDefault();
        const next = {};
        for (const [key] of filters) next[key] = inputs[key].value.trim();
        next.state = inputs.state.value;
        window.location.hash = `#/log${query(next)}`;
      },
    },
    filters.map(([key, text, type]) => {
      inputs[key] = h("input", { id: `f-${key}`, name: key, type, value: values[key] });
      return h("label", text, inputs[key]);
    }),
    h(
      "label",
      "State",
      (inputs.state = h(
        "select",
        { id: "f-state", name: "state" },
        states.map((s) => h("option", { value: s, selected: s === values.state }, s || "any")),
      )),
    ),
    h("button", { type: "submit" }, "Search"),
  );
  const results = h("div.results");
  const status = h("div");
  // Where the last replay of the same rule choice that stopped at its limit left off: refused jobs
  // stay failed, so the next replay starts below them rather than meet them again.
  let olderThan = null;
  async function replayMatching(rule) {
    replayAll.disabled = true;
    replace(status, note("info", "Replaying…"));
    try {
      const filter = apiFilter(values);
      for (const k of Object.keys(filter)) if (!filter[k]) delete filter[k];
      const continued = olderThan && olderThan.rule === rule;
      if (continued) filter.before = olderThan.before;
      // A replay takes the newest jobs up to its limit; older ones wait for the next.
      const r = await post("/api/jobs/replay", { filter, rule });
      olderThan = r.more ? { rule, before: r.before } : null;
      const refused = r.refused || [];
      const which = continued ? "next older" : "newest";
      replace(
        status,
        !r.more
          ? note("ok", `${count(r.count, "failed or dead job")} queued again.`)
          : note(
              "info",
              refused.length
                ? `${r.count} of the ${which} ${r.count + refused.length} failed or dead jobs of this search were ` +
                    "queued again, as many as one replay goes through; press again for older ones."
                : `The ${which} ${r.count} failed or dead jobs of this search were queued again, as many as one ` +
                    "replay takes; press again for older ones.",
            ),
        refused.length
          ? note(
              "warn",
              `${count(refused.length, "job was", "jobs were")} not replayed with the rule as it is now (left as ${
                refused.length === 1 ? "it was" : "they were"
              }):`,
              h(
                "ul.refused",
                refused.map((j) => h("li", h("a", { href: `#/jobs/${j.id}` }, `#${j.id}`), ` (${j.rule}): ${j.reason}`)),
              ),
            )
          : null,
      );
      await load();
    } catch (e) {
      replace(status, note("error", e.message));
    } finally {
      replayAll.disabled = false;
    }
  }
  // Each replayed job sends its request again (an email, an enrolment): asked first.
  const replayAll = h(
    "button.secondary",
    {
      type: "button",
      onclick: () => {
        const searched = [...filters.map(([key]) => values[key]), values.state].some((v) => v);
        const choice = ruleChoice("bulk-rule");
        replace(
          status,
          note(
            "warn",
            `Every failed or dead job ${searched ? "matching this search" : "in the log (no search is set)"} ` +
              "will run again and send its request to its integration again. ",
            choice,
            h("button", { type: "button", onclick: () => replayMatching(chosenRule(choice)) }, "Replay them"),
            " ",
            h("button.secondary", { type: "button", onclick: () => replace(status) }, "Cancel"),
          ),
        );
      },
    },
    "Replay failed and dead jobs matching this search",
  );
  replace(main, h("h1", "Execution log"), form, h("div.actions", replayAll), status, results);

  const rows = [];
  let next = null;
  const more = olderButton(() => page(next), status);
  async function page(before) {
    const filter = apiFilter(values);
    const data = await get(`/api/jobs${query({ ...filter, before, limit: 50 })}`);
    if (!live()) return;
    rows.push(...data.items);
    next = data.next;
    const empty = rows.length ? null : await noJobs(filter);
    if (!live()) return;
    replace(results, rows.length ? jobsTable(rows) : empty, next ? h("div.actions", more) : null);
  }
  async function load() {
    rows.length = 0;
    await page(null);
  }
  await load();
}

// Headers are recorded as [name, value] pairs (or an object); shown one per line.
function headerLines(headers) {
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers || {});
  return pairs.map(([name, value]) => `${name}: ${value}`).join("\n");
}

// A body that is JSON is shown indented; anything else as it was recorded.
function bodyText(body) {
  if (!body) return "(empty)";
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return String(body);
  }
}

function message(title, start, part) {
  return h(
    "div.message",
    h("h5", title),
    h("pre.json", start, "\n", headerLines(part.headers), "\n\n", bodyText(part.body)),
  );
}

function exchange(ex, i) {
  const req = ex.request || {};
  const res = ex.response || {};
  const status = res.error ? `no response: ${res.error}` : `HTTP ${res.status}`;
  return h(
    "div.exchange",
    h("h4", `Request ${i + 1}: `, h("code", `${req.method || ""} ${req.url || ""}`), ` → ${status}`,
      ex.duration_ms !== undefined ? ` (${ex.duration_ms} ms)` : ""),
    h(
      "div.pair",
      message("Request", `${req.method || ""} ${req.url || ""}`, req),
      res.error ? h("div.message", h("h5", "Response"), note("error", status)) : message("Response", status, res),
    ),
  );
}

function attempt(a) {
  const queued = a.wait_ms > 0 ? `, started ${a.wait_ms} ms after it was due` : "";
  const node = a.node ? `, on node ${a.node}` : "";
  return h(
    "section.card.attempt",
    { dataset: { attempt: a.number } },
    h("h3", `Attempt ${a.number} `, badge(a.outcome), h("span.muted", ` ${when(a.started_at)}, ${a.duration_ms} ms${queued}${node}`)),
    a.error ? note("error", a.error) : null,
    a.exchanges.length ? a.exchanges.map(exchange) : h("p.muted", "No HTTP request was made."),
  );
}

function customerLine(event) {
  const c = (event && event.customer) || {};
  if (!c.email && !c.name) return null;
  return h(
    "p.customer",
    "Customer: ",
    h("span.customer-name", c.name || [c.first_name, c.last_name].filter(Boolean).join(" ")),
    c.email ? [" <", h("a", { href: `#/customers${query({ email: c.email })}` }, c.email), ">"] : null,
  );
}

export async function jobDetail(main, [id], search, live) {
  const status = h("div.replay-status");
  let shown = null;
  async function show() {
    const data = await get(`/api/jobs/${id}`);
    if (!live()) return null;
    const job = data.job;
    // Drawn again only when something changed, and with the same sections
    // open: a job that waits or runs is looked at every second.
    const text = JSON.stringify(data);
    if (text === shown) return job.state;
    const open = new Set(shown ? [...main.querySelectorAll("details[open] > summary")].map((s) => s.textContent) : []);
    shown = text;
    const replayable = job.state === "failed" || job.state === "dead";
    const choice = replayable ? ruleChoice("replay-rule") : null;
    const replay = h(
      "button",
      {
        type: "button",
        id: "replay",
        disabled: !replayable,
        onclick: async () => {
          replay.disabled = true;
          try {
            await post(`/api/jobs/${id}/replay`, { rule: chosenRule(choice) });
            replace(status, note("info", "Queued again; watching…"));
            const state = await watch();
            if (state) replace(status, note(state === "succeeded" ? "ok" : "error", `The replay ended ${state}.`));
          } catch (e) {
            replace(status, note("error", e.message));
            replay.disabled = false;
          }
        },
      },
      "Replay",
    );
    replace(
      main,
      h("p", h("a", { href: lastSearch }, "← Execution log")),
      h("div.heading", h("h1", `Job #${job.id}`), h("span", { id: "job-state" }, badge(job.state))),
      h(
        "dl.facts",
        h("dt", "Rule"), h("dd", job.rule),
        h("dt", "Action"), h("dd", h("code", `${job.integration}.${job.action}`)),
        h("dt", "Attempts"), h("dd", String(job.attempts)),
        h("dt", "Next attempt"), h("dd", when(job.due_at)),
        h("dt", "Last error"), h("dd.error", job.last_error || "—"),
        h("dt", "Event"), h("dd", h("a", { href: `#/events/${job.event_id}` }, `#${job.event_id}`),
          data.event ? ` ${data.event.type}` : ""),
      ),
      customerLine(data.event),
      choice,
      h("div.actions", replay),
      status,
      h("h2", "Attempts"),
      data.attempts.length ? data.attempts.map(attempt) : note("info", "No attempt yet."),
      data.replays && data.replays.length ? [h("h2", "Replays"), h("ul.replays", data.replays.map(replayLine))] : null,
      h("details", h("summary", "Parameters"), json(job.params)),
      h("details", h("summary", "Event"), json(data.event)),
    );
    for (const summary of main.querySelectorAll("details > summary"))
      if (open.has(summary.textContent)) summary.parentElement.open = true;
    return job.state;
  }
  // While the job waits or runs, look again every second; the state it settled in.
  async function watch() {
    for (;;) {
      const state = await show();
      if (state !== "queued" && state !== "running") return state;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  await watch();
}

export async function eventDetail(main, [id], search, live) {
  const data = await get(`/api/events/${id}`);
  if (!live()) return;
  const e = data.event;
  replace(
    main,
    h("p", h("a", { href: lastSearch }, "← Execution log")),
    h("h1", `Event #${e.id} `, h("span.muted", e.type)),
    h(
      "dl.facts",
      h("dt", "Source"), h("dd", e.source),
      h("dt", "Occurred"), h("dd", when(e.occurred_at)),
      h("dt", "Mode"), h("dd", e.mode),
      h("dt", "Order"), h("dd", (e.order && e.order.id) || "—"),
      h("dt", "Item"), h("dd", (e.item && [e.item.reference, e.item.name].filter(Boolean).join(" — ")) || "—"),
    ),
    customerLine(e),
    h("h2", "Jobs"),
    data.jobs.length ? jobsTable(data.jobs) : note("info", "No rule matched this event."),
    h("h2", "Canonical event"),
    json(e),
  );
}
