// Rules as loaded, with the validation report of the running configuration.
import { get } from "../api.js";
import { h, replace, note, table } from "../dom.js";

function where(rule) {
  if (!rule.where.length) return "—";
  return rule.where.map((f) => h("div", `${f.field} ${f.op} ${f.values.join(" | ")}`));
}

export async function rules(main, params, search, live) {
  const data = await get("/api/rules");
  if (!live()) return;
  replace(
    main,
    h("h1", "Rules"),
    h("p.muted", `From ${data.file}: ${data.items.length} rules, ${data.errors} errors, ${data.warnings} warnings.`),
    data.diagnostics.length
      ? h(
          "ul.diagnostics",
          data.diagnostics.map((d) => h("li", note(d.severity === "error" ? "error" : "info", d.text))),
        )
      : note("ok", "The configuration validates without warnings."),
    table(
      ["Rule", "On", "Product", "Where", "Do", "With", "Line"],
      data.items.map((r) =>
        h(
          "tr",
          h("td", r.name),
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
  );
}
