// One customer's timeline: every event received for an email, newest first, each with its jobs.
import { get } from "../api.js";
import { h, replace, note, when, badge, query, olderButton } from "../dom.js";

function entry(item) {
  const c = item.customer || {};
  return h(
    "li.entry",
    { dataset: { event: item.id } },
    h(
      "div.when",
      when(item.received_at),
    ),
    h(
      "div.what",
      h("div", h("a", { href: `#/events/${item.id}` }, item.type), h("span.muted", ` from ${item.source} (${item.mode})`)),
      h(
        "div.muted",
        c.name ? h("span.customer-name", c.name) : null,
        item.order_id ? ` order ${item.order_id}` : "",
        item.item_reference ? ` · ${item.item_reference}` : "",
      ),
      item.job_list.length
        ? h(
            "ul.jobs",
            item.job_list.map((j) =>
              h(
                "li",
                h("a", { href: `#/jobs/${j.id}` }, `#${j.id}`),
                " ",
                h("code", `${j.integration}.${j.action}`),
                " ",
                badge(j.state),
                j.last_error ? h("span.error", ` ${j.last_error}`) : null,
              ),
            ),
          )
        : h("div.muted", "no jobs"),
    ),
  );
}

export async function customers(main, params, search, live) {
  const email = (search.get("email") || "").trim();
  const input = h("input", { id: "customer-email", type: "email", name: "email", value: email, required: true });
  const form = h(
    "form.search",
    {
      onsubmit: (ev) => {
        ev.preventDefault();
        window.location.hash = `#/customers${query({ email: input.value.trim() })}`;
      },
    },
    h("label", "Customer email", input),
    h("button", { type: "submit" }, "Show timeline"),
  );
  const results = h("div.results");
  const status = h("div");
  replace(main, h("h1", "Customers"), form, status, results);
  if (!email) return replace(results, note("info", "Enter an email to see every event and job of that customer."));

  const items = [];
  let next = null;
  const more = olderButton(() => page(next), status);
  async function page(before) {
    const data = await get(`/api/timeline${query({ email, before, limit: 50 })}`);
    if (!live()) return;
    items.push(...data.items);
    next = data.next;
    replace(
      results,
      h("h2", data.email),
      items.length ? h("ol.timeline", items.map(entry)) : note("info", "No events for this email."),
      next ? h("div.actions", more) : null,
    );
  }
  await page(null);
}
