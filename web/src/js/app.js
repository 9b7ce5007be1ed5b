// The console: log in, then one page per hash route (#/log, #/jobs/12, ...).
import { api, post, whenUnauthorized, ApiError } from "./api.js";
import { h, replace, note } from "./dom.js";
import { overview } from "./pages/overview.js";
import { integrations } from "./pages/integrations.js";
import { rules } from "./pages/rules.js";
import { log, jobDetail, eventDetail } from "./pages/log.js";
import { customers } from "./pages/customers.js";
import { plugins } from "./pages/plugins.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const banner = document.getElementById("banner");

// [pattern, nav entry, page(main, params, search)]
const routes = [
  [/^\/$/, "overview", overview],
  [/^\/integrations$/, "integrations", integrations],
  [/^\/rules$/, "rules", rules],
  [/^\/log$/, "log", log],
  [/^\/jobs\/(\d+)$/, "log", jobDetail],
  [/^\/events\/(\d+)$/, "log", eventDetail],
  [/^\/customers$/, "customers", customers],
  [/^\/plugins$/, "plugins", plugins],
];

let loggedIn = false;
let generation = 0;

// True while the page that `token` started is still the one shown.
function current(token) {
  return token === generation;
}

function location() {
  const hash = window.location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = hash.split("?");
  return { path, search: new URLSearchParams(search) };
}

// Above every page while the runner or the poller does not run (a reload could not start it), until a
// reload starts it: the hub still stores webhooks, so nothing else looks wrong.
async function showStatus() {
  let status;
  try {
    status = await api("GET", "/api/status");
  } catch {
    return;
  }
  if (!loggedIn) return;
  const stopped = [
    ["runner", "No job runs", "Webhooks are still stored, and their jobs wait in the queue."],
    ["poller", "No source is polled", "Polled sources bring in nothing until then; webhooks are still stored."],
  ].filter(([part]) => status[part] && !status[part].running);
  replace(
    banner,
    stopped.map(([part, what, so]) =>
      note(
        "error",
        h("strong", `${what} since ${status[part].since}`),
        `: ${status[part].reason}. ${so} `,
        status[part].hint,
      ),
    ),
  );
}

// A reload may have started (or failed to start) them; one sent another way (SIGHUP, the API) is seen by a page
// left open within 10 s.
window.addEventListener("cartwire:reloaded", showStatus);
setInterval(() => {
  if (loggedIn && !document.hidden) showStatus();
}, 10000);

async function render() {
  const token = ++generation;
  if (!loggedIn) return showLogin();
  showStatus();
  const { path, search } = location();
  const route = routes.find(([pattern]) => pattern.test(path));
  for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", route && a.dataset.page === route[1]);
  if (!route) return replace(main, h("h1", "Not found"), note("error", "No page at ", path));
  const params = path.match(route[0]).slice(1);
  replace(main, h("p.loading", "Loading…"));
  try {
    await route[2](main, params, search, () => current(token));
  } catch (e) {
    if (!current(token)) return;
    if (e instanceof ApiError && e.status === 401) return;
    replace(main, h("h1", "Error"), note("error", e.message));
  }
}

function showLogin(message) {
  loggedIn = false;
  nav.hidden = true;
  replace(banner);
  const input = h("input", {
    id: "token",
    type: "password",
    name: "token",
    autocomplete: "current-password",
    required: true,
    placeholder: "admin token",
  });
  const status = h("div");
  const form = h(
    "form.login",
    {
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          await post("/api/login", { token: input.value });
          loggedIn = true;
          nav.hidden = false;
          render();
        } catch (e) {
          replace(status, note("error", e.message));
        }
      },
    },
    h("h1", "Log in"),
    h("p", "Enter the hub's admin token (admin.token)."),
    h("label", { for: "token" }, "Admin token"),
    input,
    h("button", { type: "submit" }, "Log in"),
    status,
  );
  if (message) status.appendChild(note("info", message));
  replace(main, form);
  input.focus();
}

whenUnauthorized(() => {
  if (loggedIn) showLogin("Your session has ended; log in again.");
});

document.getElementById("logout").addEventListener("click", async () => {
  try {
    await post("/api/logout");
  } finally {
    showLogin("Logged out.");
  }
});

window.addEventListener("hashchange", render);

(async () => {
  try {
    await api("GET", "/api/session");
    loggedIn = true;
    nav.hidden = false;
  } catch {
    loggedIn = false;
  }
  render();
})();
