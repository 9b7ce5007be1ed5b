// The web console in a real browser (Debian's chromium, driven by
// playwright-core) against the real cartwire binary: a fake Notify URL sink,
// the Thinkific fake for resource lists, ThriveCart webhooks over HTTP.
//   CARTWIRE_BIN, CARTWIRE_PLUGIN_DIR, CARTWIRE_FAKES_DIR, CARTWIRE_CRASHES_PLUGIN, CARTWIRE_STORE_FAULTS,
//   CARTWIRE_ARTIFACTS,
//   CARTWIRE_NODE_MODULES (where `npm ci` put playwright-core), CHROMIUM (default /usr/bin/chromium)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const require = createRequire(path.join(process.env.CARTWIRE_NODE_MODULES, "/"));
const { chromium } = require("playwright-core");

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (ctest passes it; see tests/CMakeLists.txt)`);
  return value;
};
const bin = env("CARTWIRE_BIN");
const artifacts = env("CARTWIRE_ARTIFACTS");

const secrets = {
  ADMIN_TOKEN: "console-admin-token-5e6f7a8b9c",
  TC_SECRET: "Tc-Secret-console-2026",
  HOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  SINK_TOKEN: "sink-bearer-7d1c0b9a8e",
  TK_KEY: "tk-e2e-api-key",
  GHL_TOKEN: "pit-console-0b5e8c2a-9d4f-4e1a",
};
const scriptName = "<script>window.__xss = 1</script>";
// A rule with an error at start: the hub runs the others and keeps this one idle.
const idleRule = `  - name: waits-for-a-fix
    on: order.completed
    do: crm.tag
`;
const imgName = '<img src=x onerror="window.__xss = 2">';

const work = fs.mkdtempSync(path.join(os.tmpdir(), "cw-browser-"));
// While this file holds N, each thread of the hub starts N threads more, and no other (the store_faults preload).
const threadFaults = path.join(work, "thread-faults");
const children = [];
let sink, hub, browser, page;
const pageProblems = [];

// -- helpers ----------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function eventually(what, fn, ms = 20000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

function start(name, command, args, extraEnv = {}) {
  const log = fs.openSync(path.join(work, `${name}.log`), "a");
  const child = spawn(command, args, { env: { ...process.env, ...extraEnv }, stdio: ["ignore", log, log] });
  children.push(child);
  return child;
}

/**
 * The Notify URL endpoint: counts every request as it arrives (`arrived`),
 * records it and answers it (503 while failing) once `held` (a promise) has settled.
 */
function startSink() {
  return new Promise((resolve) => {
    const state = { failing: false, held: Promise.resolve(), received: [], arrived: 0 };
    const server = http.createServer((req, res) => {
      state.arrived++;
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", async () => {
        await state.held;
        state.received.push({ headers: req.headers, body, status: state.failing ? 503 : 200 });
        res.writeHead(state.failing ? 503 : 200, { "Content-Type": "application/json" });
        res.end(state.failing ? '{"error":"down for maintenance"}' : '{"ok":true}');
      });
    });
    server.listen(0, "127.0.0.1", () => {
      state.url = `http://127.0.0.1:${server.address().port}/cartwire`;
      state.close = () => new Promise((r) => server.close(r));
      resolve(state);
    });
  });
}

// ThriveCart posts PHP-style forms: brackets in keys stay literal.
function form(fields) {
  return fields.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
}

function thrivecartOrder(orderId, email, firstName, lastName) {
  return form([
    ["event", "order.success"], ["mode", "live"], ["mode_int", "2"], ["thrivecart_account", "acme"],
    ["thrivecart_secret", secrets.TC_SECRET], ["base_product", "12"], ["order_id", orderId],
    ["invoice_id", "000000004"], ["currency", "USD"], ["customer_id", "4244502"],
    ["customer[email]", email], ["customer[name]", `${firstName} ${lastName}`],
    ["customer[first_name]", firstName], ["customer[last_name]", lastName],
    ["customer[address][country]", "US"], ["customer[address][zip]", "10001"],
    ["order[charges][0][item_type]", "product"], ["order[charges][0][reference]", "12"],
    ["order[charges][0][name]", "Course"], ["order[charges][0][amount]", "4995"],
    ["order[charges][0][amount_str]", "49.95"], ["order[charges][0][type]", "single"],
    ["purchase_map[0]", "product-12"], ["order_timestamp", "1768471200"],
    ["order[total]", "4995"], ["order[total_str]", "49.95"], ["order[processor]", "stripe"],
  ]);
}

async function webhook(body) {
  const r = await fetch(`${hub.hooks}/hooks/thrivecart`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body,
  });
  assert.equal(r.status, 200, await r.text());
}

async function api(pathAndQuery) {
  const r = await fetch(`${hub.admin}${pathAndQuery}`, { headers: { Authorization: `Bearer ${secrets.ADMIN_TOKEN}` } });
  assert.equal(r.status, 200, pathAndQuery);
  return r.json();
}

async function jobsOf(email) {
  return (await api(`/api/jobs?email=${encodeURIComponent(email)}`)).items;
}

async function shot(name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function go(hash) {
  await page.goto(`${hub.admin}/${hash}`);
}

// chromium logs every answer of 4xx/5xx as a console error; one that a test
// asks for on purpose is taken off the page's problems.
async function expectFailedRequest(status) {
  const pattern = new RegExp(`status of ${status} `);
  const at = await eventually(`the console line of the ${status}`, async () => pageProblems.findIndex((p) => pattern.test(p)) + 1);
  pageProblems.splice(at - 1, 1);
}

// -- set-up -----------------------------------------------------------------

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  for (const f of fs.readdirSync(artifacts)) if (f.endsWith(".png")) fs.rmSync(path.join(artifacts, f));
  sink = await startSink();

  const fakePort = await freePort();
  start("thinkific", "python3", [path.join(env("CARTWIRE_FAKES_DIR"), "thinkific.py"), "--port", String(fakePort)]);
  const fake = `http://127.0.0.1:${fakePort}`;
  await eventually("the Thinkific fake", async () => (await fetch(`${fake}/__fake/health`)).ok);

  const plugins = path.join(work, "plugins");
  fs.mkdirSync(plugins);
  for (const name of ["thrivecart", "notifyurl", "thinkific", "ghl"])
    fs.copyFileSync(path.join(env("CARTWIRE_PLUGIN_DIR"), `${name}.so`), path.join(plugins, `${name}.so`));
  // No plugin: rejected with the reason, a warning of the configuration.
  fs.writeFileSync(path.join(plugins, "broken.so"), "not a plugin\n");

  // Nothing listens there: the polled source's first poll fails.
  const [hookPort, adminPort, closedPort] = [await freePort(), await freePort(), await freePort()];
  hub = { hooks: `http://127.0.0.1:${hookPort}`, admin: `http://127.0.0.1:${adminPort}`, fake };
  const config = `server:
  listen: 127.0.0.1:${hookPort}
storage:
  path: ${path.join(work, "hub.db")}
plugins:
  dir: ${plugins}
admin:
  listen: 127.0.0.1:${adminPort}
  token: "\${ADMIN_TOKEN}"
runner:
  workers: 2
  poll_interval: 100ms
  retry: {initial_delay: 200ms, max_delay: 1s, horizon: 1h, max_attempts: 1}
sources:
  thrivecart:
    connector: thrivecart
    settings: {secret: "\${TC_SECRET}", account: acme}
  crm-contacts:
    connector: ghl
    trigger: contacts_changed
    every: 1h
    settings: {token: "\${GHL_TOKEN}", location_id: ve9EPM428h8vShlRW1KT, base_url: "http://127.0.0.1:${closedPort}"}
integrations:
  hook:
    connector: notifyurl
    settings:
      url: "${sink.url}"
      secret: "\${HOOK_SECRET}"
      headers: {Authorization: "Bearer \${SINK_TOKEN}"}
  school:
    connector: thinkific
    settings: {subdomain: acme, api_key: "\${TK_KEY}", base_url: "${fake}/api/public/v1"}
rules:
  - name: notify-orders
    on: order.completed
    do: hook.post
  - name: coaching-upsell
    on: product.purchased
    where: {item.reference: upsell-13}
    do: hook.post
    with:
      data: {email: "{{customer.email}}", course: "{{item.name}}"}
${idleRule}`;
  fs.writeFileSync(path.join(work, "hub.yaml"), config);
  start("hub", bin, ["serve", "--config", path.join(work, "hub.yaml")], {
    ...secrets,
    LD_PRELOAD: env("CARTWIRE_STORE_FAULTS"),
    THREAD_FAULTS: threadFaults,
  });
  await eventually("the hub's admin listener", async () => (await fetch(`${hub.admin}/healthz`)).ok);

  // Bob's order goes through; Ann's fails for good (one attempt); Eve's name is markup.
  await webhook(thrivecartOrder("5002", "bob@example.com", "Bob", "Stone"));
  await eventually("bob's job", async () => (await jobsOf("bob@example.com"))[0]?.state === "succeeded");
  sink.failing = true;
  await webhook(thrivecartOrder("5001", "ann@example.com", "Ann", "Lee"));
  await webhook(thrivecartOrder("5003", "eve@example.com", scriptName, imgName));
  await eventually("ann's job to die", async () => (await jobsOf("ann@example.com"))[0]?.state === "dead");
  await eventually("eve's job to die", async () => (await jobsOf("eve@example.com"))[0]?.state === "dead");

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => pageProblems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/401 \(Unauthorized\)/.test(m.text())) pageProblems.push(`console: ${m.text()}`);
  });
  page.on("dialog", (d) => {
    pageProblems.push(`dialog: ${d.message()}`);
    d.dismiss();
  });
});

after(async () => {
  if (browser) await browser.close();
  for (const child of children) child.kill("SIGTERM");
  if (sink) await sink.close();
  // Keep the hub's log with the screenshots.
  const log = path.join(work, "hub.log");
  if (fs.existsSync(log)) fs.copyFileSync(log, path.join(artifacts, "hub.log"));
  fs.rmSync(work, { recursive: true, force: true });
});

// -- scenarios (in order: they share the hub and the browser) ---------------

test("log in with the admin token", async () => {
  await go("");
  await page.locator("form.login").waitFor();
  const served = await page.request.get(`${hub.admin}/`);
  assert.match(served.headers()["content-security-policy"], /script-src 'self'/);
  await page.fill("#token", "not-the-token-at-all");
  await page.click("form.login button");
  await page.getByRole("alert").filter({ hasText: "wrong admin token" }).waitFor();
  await shot("01-login");
  await page.fill("#token", secrets.ADMIN_TOKEN);
  await page.click("form.login button");
  await page.locator("h1", { hasText: "Overview" }).waitFor();
  assert.equal(await page.locator("#nav").isVisible(), true);
  const cookies = await page.context().cookies();
  assert.ok(cookies.some((c) => c.name === "cartwire_session" && c.httpOnly));
});

test("the overview charts render the stored events and failures", async () => {
  await go("#/");
  await page.locator("#chart-events").waitFor();
  const events = (await api("/api/events?limit=200")).items.length;
  assert.ok(events >= 3, `events: ${events}`);
  const drawn = await page.evaluate(() => {
    const chart = window.Chart.getChart(document.getElementById("chart-events"));
    const canvas = chart.canvas;
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) painted += pixels[i] > 0 ? 1 : 0;
    const failures = window.Chart.getChart(document.getElementById("chart-failures"));
    return {
      events: chart.data.datasets[0].data.reduce((a, b) => a + b, 0),
      painted,
      failureLabels: failures.data.labels,
      dead: failures.data.datasets.find((d) => d.label === "dead").data,
    };
  });
  assert.equal(drawn.events, events);
  assert.ok(drawn.painted > 1000, `painted pixels: ${drawn.painted}`);
  assert.deepEqual(drawn.failureLabels, ["hook"]);
  assert.deepEqual(drawn.dead, [2]);
  assert.equal(await page.locator(".tile.bad .value").innerText(), "2");
  await shot("02-overview");
});

test("the daily overview names each day by its UTC date, west of UTC too", async () => {
  // Days are buckets from 00:00 UTC: in Los Angeles that instant is still the day before.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: "America/Los_Angeles" });
  try {
    const west = await context.newPage();
    await west.goto(`${hub.admin}/`);
    await west.fill("#token", secrets.ADMIN_TOKEN);
    await west.click("form.login button");
    await west.locator("h1", { hasText: "Overview" }).waitFor();
    await west.goto(`${hub.admin}/#/?bucket=1d`);
    await west.locator("#chart-events").waitFor();
    const stats = await api("/api/stats?bucket=1d");
    const labels = await west.evaluate(() => window.Chart.getChart(document.getElementById("chart-events")).data.labels);
    assert.equal(labels.length, stats.buckets.length);
    stats.buckets.forEach((b, i) => {
      const day = new Date(b.start).getUTCDate();
      assert.match(labels[i], new RegExp(`\\b${day}\\b`), `bucket ${b.start} is labelled ${labels[i]}`);
    });
    assert.match(await west.locator("select option:checked").innerText(), /daily, UTC/);
  } finally {
    await context.close();
  }
});

test("find an execution by email, open it and see the redacted request", async () => {
  await go("#/log");
  await page.fill("#f-email", "ann@example.com");
  await page.click("form.search button");
  const rows = page.locator("table.jobs tbody tr");
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().innerText(), /hook\.post[\s\S]*dead/);
  await shot("03-log-search");
  await rows.first().locator("a").first().click();
  await page.locator("section.attempt").first().waitFor();
  const attemptText = await page.locator("section.attempt").first().innerText();
  assert.match(attemptText, /retryable/);
  assert.ok(attemptText.includes(sink.url), "the request's URL is shown");
  assert.match(attemptText, /^authorization: \[redacted\]$/im);
  assert.match(attemptText, /HTTP 503/);
  assert.match(attemptText, /down for maintenance/);
  const whole = await page.locator("main").innerText();
  assert.ok(!whole.includes(secrets.SINK_TOKEN), "the sink token is not shown");
  assert.ok(!whole.includes(secrets.HOOK_SECRET.slice(6)), "the signing secret is not shown");
  // The sink itself got the real credential.
  assert.equal(sink.received.at(-1).headers.authorization, `Bearer ${secrets.SINK_TOKEN}`);
  await shot("04-execution-detail");
});

test("replay a dead job from its page and watch it succeed", async () => {
  assert.match(await page.locator("#job-state").innerText(), /dead/);
  const before = sink.received.length;
  sink.failing = false;
  await page.click("#replay");
  await page.locator("#job-state", { hasText: "succeeded" }).waitFor({ timeout: 20000 });
  await page.locator(".replay-status .note.ok", { hasText: "The replay ended succeeded." }).waitFor();
  assert.equal(await page.locator("section.attempt").count(), 2);
  assert.match(await page.locator('section.attempt[data-attempt="2"]').innerText(), /ok/);
  assert.equal(sink.received.length, before + 1);
  assert.equal(sink.received.at(-1).status, 200);
  assert.equal(await page.locator("#replay").isDisabled(), true);
  await shot("05-replayed");
});

test("the job's way back leads to the search it was opened from", async () => {
  // Still on Ann's job, opened from the search by her email.
  await page.getByRole("link", { name: "← Execution log" }).click();
  await page.locator("table.jobs tbody tr").first().waitFor();
  assert.equal(await page.inputValue("#f-email"), "ann@example.com");
  assert.equal(await page.locator("table.jobs tbody tr").count(), 1);
  assert.match(page.url(), /#\/log\?email=ann%40example\.com$/);
});

test("the page of a running job keeps open what the user opened", async () => {
  let release;
  sink.held = new Promise((r) => (release = r));
  try {
    await webhook(thrivecartOrder("7001", "slow@example.com", "Sam", "Slow"));
    const job = await eventually("slow's job to run", async () =>
      (await jobsOf("slow@example.com")).find((j) => j.state === "running"),
    );
    await go(`#/jobs/${job.id}`);
    const event = page.locator("details", { has: page.locator("summary", { hasText: "Event" }) });
    await event.locator("summary").click();
    // The page looks at the running job every second.
    await page.waitForTimeout(2500);
    assert.match(await page.locator("#job-state").innerText(), /running/);
    assert.equal(await event.evaluate((d) => d.open), true, "open while the job runs");
    release();
    await page.locator("#job-state", { hasText: "succeeded" }).waitFor({ timeout: 20000 });
    assert.equal(await event.evaluate((d) => d.open), true, "open once its attempt is in");
    assert.match(await event.innerText(), /slow@example\.com/);
  } finally {
    release();
    sink.held = Promise.resolve();
  }
});

test("refresh the resource lists of an integration", async () => {
  await go("#/integrations");
  const card = page.locator('section.integration[data-integration="school"]');
  const courses = card.locator('tr[data-list="courses"] td.count');
  await courses.waitFor();
  // Never fetched: no count that reads as an empty list on the remote.
  assert.equal(await courses.innerText(), "—");
  assert.match(await card.locator('tr[data-list="courses"]').innerText(), /never fetched[\s\S]*not fetched/);
  await card.getByRole("button", { name: "Refresh lists" }).click();
  await page
    .locator('section.integration[data-integration="school"] .note.ok', { hasText: "courses: 260 items" })
    .waitFor();
  assert.equal(
    await page.locator('section.integration[data-integration="school"] tr[data-list="courses"] td.count').innerText(),
    "260",
  );
  // A count of one is said in the singular.
  assert.match(
    await page.locator('section.integration[data-integration="school"] .note.ok', { hasText: "custom_profile_fields" }).innerText(),
    /custom_profile_fields: 3 items \(1 request, \d+ ms\)/,
  );
  const requests = await (await fetch(`${hub.fake}/__fake/requests`)).json();
  assert.ok(requests.some((r) => r.path.includes("/courses")), "the fake was asked for courses");
  assert.equal((await api("/api/integrations/school/lists/courses")).items.length, 260);
  await shot("06-integrations");
});

test("the cached items of a resource list are shown with their ids", async () => {
  await go("#/integrations");
  const courses = page.locator('section.integration[data-integration="school"] tr[data-list="courses"]');
  await courses.locator("summary", { hasText: "Show items" }).click();
  const rows = courses.locator("table.list-items tbody tr");
  await rows.first().waitFor();
  const cached = (await api("/api/integrations/school/lists/courses")).items;
  assert.equal(await rows.count(), cached.length);
  const headers = await courses.locator("table.list-items th").allInnerTexts();
  assert.deepEqual(headers.slice(0, 2).map((t) => t.toLowerCase()), ["id", "name"]);
  const first = (await rows.first().locator("td").allInnerTexts()).slice(0, 2);
  assert.deepEqual(first, [String(cached[0].id), cached[0].name]);
  await shot("06b-list-items");
});

test("a polled source shows its interval and its failed polls", async () => {
  await eventually("the first poll to fail", async () => {
    const source = (await api("/api/sources")).items.find((s) => s.id === "crm-contacts");
    return source.poll.failures > 0;
  });
  await go("#/integrations");
  const polled = page.locator('tr[data-source="crm-contacts"]');
  await polled.waitFor();
  const text = await polled.innerText();
  assert.match(text, /polled every 1 h/);
  assert.match(text, /last .+, next .+/);
  assert.match(text, /1 failed poll in a row/);
  assert.match(text, /Connection refused|could not connect/i);
  assert.doesNotMatch(text, /hooks/);
  assert.match(await page.locator('tr[data-source="thrivecart"]').innerText(), /\/hooks\/thrivecart\s+available/);
});

test("a source left out after its poll stopped the hub is polled again from its Poll again button", async () => {
  // A hub of its own, whose source's poll crashes (SIGSEGV) until the file `fixed` exists.
  const dir = path.join(work, "left-out");
  fs.mkdirSync(path.join(dir, "plugins"), { recursive: true });
  fs.copyFileSync(env("CARTWIRE_CRASHES_PLUGIN"), path.join(dir, "plugins", "crashes.so"));
  const fixed = path.join(dir, "fixed");
  const adminPort = await freePort();
  const admin = `http://127.0.0.1:${adminPort}`;
  const config = path.join(dir, "hub.yaml");
  fs.writeFileSync(
    config,
    `server:
  listen: 127.0.0.1:${await freePort()}
storage:
  path: ${path.join(dir, "hub.db")}
plugins:
  dir: ${path.join(dir, "plugins")}
admin:
  listen: 127.0.0.1:${adminPort}
  token: "\${ADMIN_TOKEN}"
sources:
  polled:
    connector: crashes
    trigger: changes
    every: 200ms
    settings: {url: "fixed-when:${fixed}"}
`,
  );
  // No core file of the crash.
  const serve = (name) =>
    start(name, "sh", ["-c", 'ulimit -c 0; exec "$0" "$@"', bin, "serve", "--config", config], secrets);
  const crashed = serve("left-out-1");
  await eventually("the first poll to stop the hub", async () => crashed.exitCode !== null || crashed.signalCode !== null);
  serve("left-out-2");
  await eventually("the hub started again", async () => (await fetch(`${admin}/healthz`)).ok);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const own = await context.newPage();
    own.setDefaultTimeout(15000);
    own.on("pageerror", (e) => pageProblems.push(`page error: ${e.message}`));
    await own.goto(`${admin}/`);
    await own.fill("#token", secrets.ADMIN_TOKEN);
    await own.click("form.login button");
    await own.locator("h1", { hasText: "Overview" }).waitFor();
    await own.goto(`${admin}/#/integrations`);
    const row = own.locator('tr[data-source="polled"]');
    await row.waitFor();
    assert.match(await row.innerText(), /left out of this run/);

    // Asked first, with the risk named; nothing is done until confirmed.
    fs.writeFileSync(fixed, "fixed\n");
    await row.getByRole("button", { name: "Poll again" }).click();
    const warning = row.locator(".poll-again-status .note.warn");
    assert.match(
      await warning.innerText(),
      /A poll of polled stopped the hub before, and may stop it again: upgrade or fix its connector/,
    );
    await own.screenshot({ path: path.join(artifacts, "05b-poll-again-asked.png"), fullPage: true });
    const bearer = { headers: { Authorization: `Bearer ${secrets.ADMIN_TOKEN}` } };
    const listed = async () => (await (await fetch(`${admin}/api/sources`, bearer)).json()).items[0];
    assert.equal((await listed()).left_out, true);
    await row.getByRole("button", { name: "Poll it again" }).click();
    const asked = "source 'polled' is polled again, as asked by a console session from 127.0.0.1";
    await own.locator(".note.ok", { hasText: asked }).waitFor();
    await eventually("the source to be polled", async () => (await listed()).poll?.polled_at);
    await own.reload();
    await own.locator('tr[data-source="polled"]').waitFor();
    assert.match(await own.locator('tr[data-source="polled"]').innerText(), /polled every 200 ms[\s\S]*available/);
    assert.equal(await own.getByRole("button", { name: "Poll again" }).count(), 0);
  } finally {
    await context.close();
  }
});

test("a customer named <script> is shown as text, never run", async () => {
  await go(`#/customers?email=${encodeURIComponent("eve@example.com")}`);
  // Her order, and the hub.job.dead event of its failed notification.
  const entry = page.locator("ol.timeline li.entry", { hasText: "order.completed" });
  await entry.waitFor();
  assert.equal(await page.locator("ol.timeline li.entry", { hasText: "hub.job.dead" }).count(), 1);
  const name = await entry.locator(".customer-name").innerText();
  assert.ok(name.includes(scriptName), `shown: ${name}`);
  assert.ok(name.includes(imgName), `shown: ${name}`);
  assert.match(await entry.innerText(), /hook\.post\s+dead/);
  await shot("07-customer-timeline");
  await entry.locator('a[href^="#/jobs/"]').first().click();
  await page.locator("p.customer .customer-name").waitFor();
  assert.ok((await page.locator("p.customer .customer-name").innerText()).includes(scriptName));
  const markup = await page.evaluate(() => ({
    flag: window.__xss,
    scripts: document.querySelectorAll("main script").length,
    images: document.querySelectorAll("main img").length,
  }));
  assert.deepEqual(markup, { flag: undefined, scripts: 0, images: 0 });
  await shot("08-script-name-as-text");
});

test("try an event on the rules page: dry run, test event, reload", async () => {
  await go("#/rules");
  await page.locator("table.rules").waitFor();
  const idle = page.locator("table.rules tr", { hasText: "waits-for-a-fix" });
  assert.match(await idle.innerText(), /idle: fix its errors/);
  assert.equal(await page.locator("table.rules tr", { hasText: "idle: fix its errors" }).count(), 1, "only that rule");
  assert.match(await page.locator("ul.diagnostics .note.error").innerText(), /crm/);
  // A warning looks like one, not like a notice.
  assert.match(await page.locator("ul.diagnostics .note.warn").innerText(), /warning: plugin rejected: .*broken\.so/);
  assert.equal(
    await page.locator("ul.diagnostics .note.warn").evaluate((n) => getComputedStyle(n).backgroundColor),
    "rgb(255, 251, 235)",
  );
  const prefilled = JSON.parse(await page.inputValue("#try-event"));
  assert.equal(prefilled.type, "product.purchased");
  assert.equal(prefilled.item.reference, "upsell-13");
  const events = async () => (await api("/api/events?limit=200")).items.length;
  const storedBefore = await events();

  // Not JSON: said so, and nothing is asked of the hub.
  const asked = [];
  const onRequest = (r) => r.url().includes("/api/") && asked.push(r.url());
  page.on("request", onRequest);
  await page.fill("#try-event", '{"type": "product.purchased",');
  await page.click("#dry-run");
  await page.getByRole("alert").filter({ hasText: "The event is not valid JSON" }).waitFor();
  page.off("request", onRequest);
  assert.deepEqual(asked, []);

  // The API's own refusal is shown as such.
  await page.fill("#try-event", '{"customer": {"email": "ann@example.com"}}');
  await page.click("#dry-run");
  await page.getByRole("alert").filter({ hasText: 'the event needs a "type"' }).waitFor();
  await expectFailedRequest(400);

  // The prefilled purchase: one rule matches, with what it would send.
  await page.fill("#try-event", JSON.stringify(prefilled, null, 2));
  const sent = sink.received.length;
  await page.click("#dry-run");
  const planned = page.locator("table.planned tbody tr");
  await planned.first().waitFor();
  assert.equal(await planned.count(), 1);
  assert.equal(await planned.first().getAttribute("data-rule"), "coaching-upsell");
  const plan = await planned.first().innerText();
  assert.match(plan, /coaching-upsell[\s\S]*hook\.post/);
  assert.match(plan, /"email": "ann@example\.com"/);
  assert.match(plan, /"course": "Coaching"/);
  // What it would send: the Notify URL post, answered inside the hub.
  const request = planned.first().locator("details.request");
  assert.equal(await request.locator("summary").innerText(), `POST ${sink.url}`);
  await request.locator("summary").click();
  const body = JSON.parse(await request.locator("pre").innerText());
  assert.equal(body.type, "product.purchased");
  assert.deepEqual(body.data, { email: "ann@example.com", course: "Coaching" });
  await page.locator(".try-result .note.ok", { hasText: "1 rule(s) match" }).waitFor();
  await shot("10-dry-run");

  // An event no rule is for.
  await page.fill("#try-event", JSON.stringify({ ...prefilled, type: "subscription.canceled" }));
  await page.click("#dry-run");
  await page.locator(".try-result .note.info", { hasText: "No rule matches this event" }).waitFor();
  assert.equal(await page.locator("table.planned").count(), 0);
  assert.equal(await events(), storedBefore, "a dry run stores nothing");
  assert.equal(sink.received.length, sent, "a dry run sends nothing");

  // Sent as a test event: stored with its job, which runs.
  await page.fill("#try-event", JSON.stringify(prefilled, null, 2));
  await page.click("#send-test");
  const stored = page.locator(".try-result .note.ok", { hasText: "Stored as test event" });
  await stored.waitFor();
  assert.match(await stored.innerText(), /with 1 job\(s\)/);
  assert.match(await page.locator("dl.test-event").innerText(), /Duplicate\s+no[\s\S]*Jobs created\s+1/);
  const href = await stored.locator("a").getAttribute("href");
  assert.match(href, /^#\/events\/\d+$/);
  const id = href.split("/").pop();
  const event = await api(`/api/events/${id}`);
  assert.equal(event.event.source, "admin-test");
  assert.equal(event.event.mode, "test");
  assert.deepEqual(event.jobs.map((j) => j.rule), ["coaching-upsell"]);
  assert.equal(await events(), storedBefore + 1);
  const delivered = await eventually("the test event's notification", async () =>
    sink.received.slice(sent).find((r) => r.body.includes("Coaching")),
  );
  assert.deepEqual(JSON.parse(delivered.body).data, { email: "ann@example.com", course: "Coaching" });
  await shot("11-test-event");
  await stored.locator("a").click();
  await page.locator("h1", { hasText: `Event #${id}` }).waitFor();
  assert.match(await page.locator("table.jobs").innerText(), /hook\.post/);

  // The same dedupe_key twice: the second is a duplicate, nothing new.
  await go("#/rules");
  await page.fill("#try-event", JSON.stringify({ ...prefilled, dedupe_key: "console-once" }));
  await page.click("#send-test");
  await page.locator(".try-result .note.ok", { hasText: "Stored as test event" }).waitFor();
  await page.click("#send-test");
  await page.locator(".try-result .note.info", { hasText: "was stored before" }).waitFor();
  assert.match(await page.locator("dl.test-event").innerText(), /Duplicate\s+yes/);
  assert.equal(await events(), storedBefore + 2);

  // Reload: a configuration with errors is refused with its diagnostics;
  // a valid one takes over and the rules shown are the new ones.
  const config = path.join(work, "hub.yaml");
  const good = fs.readFileSync(config, "utf8").replace(idleRule, "");
  fs.writeFileSync(config, `${good}  - name: broken\n    on: order.completed\n    do: nowhere.post\n`);
  await page.click("#reload");
  await page.locator(".reload-status .note.error", { hasText: "has errors" }).waitFor();
  assert.match(await page.locator(".reload-status ul.diagnostics").innerText(), /nowhere/);
  await expectFailedRequest(422);
  await shot("12-reload-refused");
  fs.writeFileSync(config, `${good}  - name: after-reload\n    on: subscription.canceled\n    do: hook.post\n`);
  assert.doesNotMatch(await page.locator("table.rules").innerText(), /after-reload/);
  await page.click("#reload");
  await page.locator(".reload-status .note.ok", { hasText: "reloaded" }).waitFor();
  assert.match(await page.locator(".reload-status .note.ok").innerText(), /\(3 rule\(s\), 2 integration\(s\)\)/);
  await page.locator("table.rules", { hasText: "after-reload" }).waitFor();
  assert.equal(await page.locator(".reload-status .note.error").count(), 0);
  await shot("13-reloaded");
});

test("replay a dead job with its rule as fixed since, and see what it had before", async () => {
  const [eve] = await jobsOf("eve@example.com");
  assert.equal(eve.state, "dead");
  // The rule gets the data it should have sent, and the hub reloads it.
  const config = path.join(work, "hub.yaml");
  const rule = "  - name: notify-orders\n    on: order.completed\n    do: hook.post\n";
  const text = fs.readFileSync(config, "utf8");
  assert.ok(text.includes(rule));
  fs.writeFileSync(config, text.replace(rule, `${rule}    with: {data: {note: fixed}}\n`));
  const reload = await fetch(`${hub.admin}/api/reload`, {
    method: "POST",
    headers: { Authorization: `Bearer ${secrets.ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: "{}",
  });
  assert.equal(reload.status, 200, await reload.text());

  await go(`#/jobs/${eve.id}`);
  await page.locator("#replay").waitFor();
  const choice = await page.locator("fieldset.replay-rule").innerText();
  assert.match(choice, /the original rule: sends the parameters the job was made with/);
  assert.match(choice, /the rule as it is now: works the parameters out again from the event/);
  assert.equal(await page.isChecked("#replay-rule-original"), true, "the original rule unless another is chosen");
  const before = sink.received.length;
  await page.check("#replay-rule-current");
  await page.click("#replay");
  await page.locator("#job-state", { hasText: "succeeded" }).waitFor({ timeout: 20000 });
  assert.equal(sink.received.length, before + 1);
  assert.deepEqual(JSON.parse(sink.received.at(-1).body).data, { note: "fixed" });
  assert.match(await page.locator("ul.replays").innerText(), /After attempt 1, .*: replayed with the rule as it was then/);
  assert.match(await page.locator("ul.replays").innerText(), /\{\}/, "the parameters it had until then: none");
  await shot("13b-replayed-with-the-current-rule");
});

test("a search by product shows each job's product", async () => {
  // The test events of the rules page: Ann's upsell-13, with its coaching-upsell job.
  await go(`#/log?item=${encodeURIComponent("upsell-*")}`);
  const rows = page.locator("table.jobs tbody tr");
  await rows.first().waitFor();
  const expected = (await api("/api/jobs?item=upsell-*")).items.length;
  assert.ok(expected >= 1, `jobs: ${expected}`);
  assert.equal(await rows.count(), expected);
  for (const text of await rows.allInnerTexts()) assert.match(text, /product\.purchased\s+upsell-13/);
});

test("a search no job matches shows the events that match it without a job", async () => {
  // A charge no rule is for: stored, with no job.
  const r = await fetch(`${hub.admin}/api/events/test`, {
    method: "POST",
    headers: { Authorization: `Bearer ${secrets.ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      event: { type: "subscription.charged", customer: { email: "nojob@example.com" }, order: { id: "NJ-1" } },
    }),
  });
  const stored = await r.text();
  assert.equal(r.status, 201, stored);
  const { event_id: id } = JSON.parse(stored);
  await go("#/log?order_id=NJ-1");
  await page.locator(".results .note.info", { hasText: "No jobs match this search." }).waitFor();
  const rows = page.locator("table.events tbody tr");
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().innerText(), /subscription\.charged[\s\S]*nojob@example\.com[\s\S]*NJ-1/);
  await rows.first().locator(`a[href="#/events/${id}"]`).click();
  await page.locator("h1", { hasText: `Event #${id}` }).waitFor();
  // A search that no event matches either says only that.
  await go("#/log?order_id=NJ-404");
  await page.locator(".results .note.info", { hasText: "No jobs match this search." }).waitFor();
  assert.equal(await page.locator("table.events").count(), 0);
});

test("Older pages on without showing a row twice, however fast it is pressed", async () => {
  const email = "many@example.com";
  const ids = Array.from({ length: 120 }, (_, i) => String(6000 + i));
  for (let i = 0; i < ids.length; i += 8)
    await Promise.all(ids.slice(i, i + 8).map((id) => webhook(thrivecartOrder(id, email, "Max", "Many"))));
  // Each order is an order.completed (one job, notify-orders) and a product.purchased (no rule).
  const older = page.getByRole("button", { name: "Older" });
  async function pageThrough(rows, key, total) {
    await eventually("the first page", async () => (await rows.count()) === 50);
    // Pressed twice before the next page is in.
    await older.evaluate((b) => {
      b.click();
      b.click();
    });
    await eventually("the second page", async () => (await rows.count()) >= 100);
    while (await older.count()) {
      const before = await rows.count();
      await older.click();
      await eventually("the next page", async () => (await rows.count()) > before);
    }
    const shown = await rows.evaluateAll((items, k) => items.map((item) => item.dataset[k]), key);
    assert.equal(shown.length, total);
    assert.equal(new Set(shown).size, total);
  }

  await go(`#/log?email=${encodeURIComponent(email)}`);
  await pageThrough(page.locator("table.jobs tbody tr"), "job", 120);
  await go(`#/customers?email=${encodeURIComponent(email)}`);
  await pageThrough(page.locator("ol.timeline li.entry"), "event", 240);
});

test("a failed Older page or replay says why and can be tried again", async () => {
  const problemsBefore = pageProblems.length;
  const email = "many@example.com";  // the 120 jobs of the test before
  const rows = page.locator("table.jobs tbody tr");
  await go(`#/log?email=${encodeURIComponent(email)}`);
  await eventually("the first page", async () => (await rows.count()) === 50);
  const olderPage = (url) => new URL(url).searchParams.has("before");
  await page.route(olderPage, (route) => route.fulfill({ status: 503, body: '{"error":"database away"}' }));
  await page.getByRole("button", { name: "Older" }).click();
  const failed = page.locator(".note.error", { hasText: "database away" });
  await failed.waitFor();
  await page.unroute(olderPage);
  await page.getByRole("button", { name: "Older" }).click();
  await eventually("the second page", async () => (await rows.count()) === 100);
  assert.equal(await failed.count(), 0, "the failure is gone once a page comes in");

  sink.failing = true;
  await webhook(thrivecartOrder("9900", "down@example.com", "Di", "Down"));
  const job = await eventually("down's job to die", async () =>
    (await jobsOf("down@example.com")).find((j) => j.state === "dead"),
  );
  sink.failing = false;
  await go(`#/jobs/${job.id}`);
  const replay = page.locator("#replay");
  await replay.waitFor();
  const replayed = `**/api/jobs/${job.id}/replay`;
  await page.route(replayed, (route) => route.fulfill({ status: 409, body: '{"error":"the job is queued"}' }));
  await replay.click();
  await page.locator(".replay-status .note.error", { hasText: "the job is queued" }).waitFor();
  assert.equal(await replay.isDisabled(), false, "Replay can be pressed again");
  await page.unroute(replayed);
  // The browser reports the two answers this test made fail, and nothing else.
  const reported = pageProblems.splice(problemsBefore);
  assert.equal(reported.length, 2, reported.join("\n"));
  assert.match(reported[0], /status of 503/);
  assert.match(reported[1], /status of 409/);
});

test("a bulk replay says when it stopped at the most one replay takes", async () => {
  const email = "bulk@example.com";
  sink.failing = true;
  const ids = Array.from({ length: 510 }, (_, i) => String(8000 + i));
  for (let i = 0; i < ids.length; i += 8)
    await Promise.all(ids.slice(i, i + 8).map((id) => webhook(thrivecartOrder(id, email, "Bo", "Bulk"))));
  const unsettled = `/api/jobs?email=${encodeURIComponent(email)}&state=queued,running&limit=1`;
  await eventually("every bulk job to die", async () => (await api(unsettled)).items.length === 0, 90000);
  sink.failing = false;

  await go(`#/log?email=${encodeURIComponent(email)}&state=dead`);
  await page.locator("table.jobs tbody tr").first().waitFor();
  const replay = page.getByRole("button", { name: "Replay failed and dead jobs matching this search" });
  const confirm = page.getByRole("button", { name: "Replay them" });
  // It asks first, and a cancelled replay queues nothing.
  await replay.click();
  const asked = page.locator(".note.warn", { hasText: "will run again" });
  assert.match(await asked.innerText(), /Every failed or dead job matching this search will run again/);
  await page.getByRole("button", { name: "Cancel" }).click();
  await asked.waitFor({ state: "detached" });
  const ran = `/api/jobs?email=${encodeURIComponent(email)}&state=queued,running,succeeded&limit=1`;
  assert.equal((await api(ran)).items.length, 0, "a cancelled replay queued nothing");
  await replay.click();
  await confirm.click();
  const said = page.locator(".note", { hasText: "queued again" });
  await said.waitFor();
  assert.match(await said.innerText(), /newest 500 failed or dead jobs of this search[\s\S]*press again for older ones/);
  await shot("14-bulk-replay");
  // The 500 are queued or done by now: the next replay takes the 10 older ones.
  await replay.click();
  await confirm.click();
  await page.locator(".note.ok", { hasText: "10 failed or dead jobs queued again." }).waitFor();
});

test("a connector whose file is removed while a call on it is under way is listed as removed", async () => {
  const bulk = "/api/jobs?email=bulk%40example.com&state=queued,running&limit=1";
  await eventually("the bulk replay's jobs to end", async () => (await api(bulk)).items.length === 0, 90000);
  const { version } = (await api("/api/plugins")).loaded.find((p) => p.id === "notifyurl");
  const plugins = path.join(work, "plugins");
  const file = path.join(plugins, "notifyurl.so");
  const config = path.join(work, "hub.yaml");
  const text = fs.readFileSync(config, "utf8");
  let release, restored;
  sink.held = new Promise((r) => (release = r));
  try {
    const arrived = sink.arrived;
    await webhook(thrivecartOrder("7101", "gone@example.com", "Gia", "Gone"));
    await eventually("the call to the sink", async () => sink.arrived > arrived);
    // Its file moved out of the folder, and a configuration without the integration and rules that use it.
    fs.renameSync(file, path.join(work, "notifyurl.so"));
    const withoutHook = text
      .replace(/^ {2}hook:\n(?: {4}.*\n)+/m, "")
      .replace(/^ {2}- name: .*\n(?: {4}.*\n)*/gm, (rule) => (rule.includes("do: hook.post") ? "" : rule));
    fs.writeFileSync(config, withoutHook);
    await go("#/rules");
    await page.click("#reload");
    await page.locator(".reload-status .note.ok", { hasText: "reloaded" }).waitFor();
    assert.match(await page.locator(".reload-status .note.ok").innerText(), /connector notifyurl .* is no longer loaded/);

    await go("#/plugins");
    await page.locator("table.removed").waitFor();
    assert.doesNotMatch(await page.locator("table.plugins").innerText(), /notifyurl/);
    const row = await page.locator("table.removed tbody tr").innerText();
    const [v, f] = [version, file].map((text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    assert.match(row, new RegExp(`^notifyurl\\s+Notify URL\\s+${v}\\s+${v} finishing the calls under way\\s+${f}$`));
    await shot("09b-plugins-removed");

    // Once its call has ended it is unloaded, and listed no more.
    release();
    await eventually("the removed connector to be unloaded", async () => (await api("/api/plugins")).removed.length === 0);
    await page.reload();
    await page.locator("table.plugins").waitFor();
    assert.equal(await page.locator("table.removed").count(), 0);
  } finally {
    release();
    sink.held = Promise.resolve();
    // The file and the configuration as they were, for the pages after.
    if (!fs.existsSync(file)) fs.renameSync(path.join(work, "notifyurl.so"), file);
    fs.writeFileSync(config, text);
    restored = await fetch(`${hub.admin}/api/reload`, {
      method: "POST",
      headers: { Authorization: `Bearer ${secrets.ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: "{}",
    });
  }
  assert.equal(restored.status, 200, await restored.text());
});

test("every page says so while no job runs, until a reload starts the runner", async () => {
  await go("#/");
  await page.locator("#chart-events").waitFor();
  assert.equal(await page.locator("#banner .note").count(), 0);
  // The reload's own threads: the one that loads plugins, then one of the new runner's three; the new
  // poller (the polled source's) gets none either.
  fs.writeFileSync(threadFaults, "2");
  let reload;
  try {
    reload = await fetch(`${hub.admin}/api/reload`, {
      method: "POST",
      headers: { Authorization: `Bearer ${secrets.ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: "{}",
    });
  } finally {
    fs.rmSync(threadFaults, { force: true });
  }
  const message = (await reload.json()).message;
  assert.match(message, /the new runner could not start/);
  assert.match(message, /the new poller could not start/);
  // A page left open learns it too (it looks every 10 s), without being shown again.
  await page.locator("#banner .note.error").nth(1).waitFor({ timeout: 20000 });
  for (const hash of ["#/log", "#/plugins", "#/"]) {
    await go(hash);
    const notes = page.locator("#banner .note.error");
    await notes.nth(1).waitFor();
    const [runner, poller] = await notes.allInnerTexts();
    assert.match(runner, /^No job runs since \d{4}-\d\d-\d\dT[^ ]*: the new runner could not start \(/);
    assert.match(runner, /Webhooks are still stored, and their jobs wait in the queue/);
    assert.match(runner, /POST \/api\/reload or send SIGHUP/);
    assert.match(poller, /^No source is polled since \d{4}-\d\d-\d\dT[^ ]*: the new poller could not start \(/);
    assert.doesNotMatch(runner + poller, new RegExp(Object.values(secrets).join("|")));
  }
  await shot("15-no-job-runs");
  // Reloading from the console starts a runner: the banner goes.
  await go("#/rules");
  await page.click("#reload");
  await page.locator(".reload-status .note.ok", { hasText: "reloaded" }).waitFor();
  await page.locator("#banner .note").waitFor({ state: "detached" });
  await go("#/log");
  await page.locator("table").first().waitFor();
  assert.equal(await page.locator("#banner .note").count(), 0);
});

test("other pages: rules, plugins, log out", async () => {
  await go("#/rules");
  await page.locator("table.rules").waitFor();
  assert.match(await page.locator("table.rules").innerText(), /notify-orders[\s\S]*hook\.post/);
  await go("#/plugins");
  await page.locator("table.plugins").waitFor();
  const plugins = await page.locator("table.plugins").innerText();
  for (const id of ["thrivecart", "notifyurl", "thinkific"]) assert.ok(plugins.includes(id), id);
  // How the hub calls a connector in use, as its log says at its first use.
  assert.match(plugins, /thrivecart\s+ThriveCart\s+1\.0\.0\s+native\s/);
  assert.match(await page.locator("table.rejected").innerText(), /broken\.so[\s\S]*cannot be loaded/);
  await shot("09-plugins");
  await page.click("#logout");
  await page.locator("form.login").waitFor();
  const r = await page.request.get(`${hub.admin}/api/jobs`);
  assert.equal(r.status(), 401);
  assert.deepEqual(pageProblems, []);
});
