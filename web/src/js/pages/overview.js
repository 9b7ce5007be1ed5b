// Overview: events and job outcomes over time, failures by integration.
import { get } from "../api.js";
import { h, replace, note, query } from "../dom.js";

const ranges = {
  "5m": "last 2 hours (5-minute buckets)",
  "1h": "last 24 hours (hourly)",
  "1d": "last 24 days (daily, UTC)",
};

const colours = {
  events: "#2563eb",
  succeeded: "#16a34a",
  failed: "#d97706",
  dead: "#dc2626",
  pending: "#94a3b8",
};

function label(iso, bucketSeconds) {
  const d = new Date(iso);
  // Daily buckets are whole days in UTC: each is named by its UTC date, which
  // west of UTC would otherwise read as the day before.
  if (bucketSeconds >= 86400) return d.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function chart(canvas, config) {
  // Chart.js comes from vendor/chart.umd.min.js (deferred, before this module runs).
  return new window.Chart(canvas, {
    ...config,
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { position: "bottom" } },
      ...config.options,
    },
  });
}

function tile(name, value, kind) {
  return h(`div.tile${kind ? "." + kind : ""}`, h("div.value", String(value)), h("div.name", name));
}

export async function overview(main, params, search, live) {
  const bucket = ranges[search.get("bucket")] ? search.get("bucket") : "1h";
  const stats = await get(`/api/stats${query({ bucket })}`);
  if (!live()) return;
  const labels = stats.buckets.map((b) => label(b.start, stats.bucket_seconds));
  const jobs = stats.totals.jobs;
  const picker = h(
    "select",
    {
      "aria-label": "Time range",
      onchange: (ev) => {
        window.location.hash = `#/${query({ bucket: ev.target.value })}`;
      },
    },
    Object.entries(ranges).map(([value, text]) => h("option", { value, selected: value === bucket }, text)),
  );
  const eventsCanvas = h("canvas", { id: "chart-events", "aria-label": "Events over time", role: "img" });
  const jobsCanvas = h("canvas", { id: "chart-jobs", "aria-label": "Job outcomes over time", role: "img" });
  const failuresCanvas = h("canvas", { id: "chart-failures", "aria-label": "Failures by integration", role: "img" });
  replace(
    main,
    h("div.heading", h("h1", "Overview"), picker),
    h(
      "div.tiles",
      tile("events", stats.totals.events),
      tile("jobs succeeded", jobs.succeeded, "ok"),
      tile("jobs failed", jobs.failed, "warn"),
      tile("jobs dead", jobs.dead, "bad"),
      tile("jobs waiting or running", jobs.queued + jobs.running),
    ),
    h("section.card", h("h2", "Events received"), h("div.chart", eventsCanvas)),
    h("section.card", h("h2", "Job outcomes (by creation time)"), h("div.chart", jobsCanvas)),
    h(
      "section.card",
      h("h2", "Failures by integration"),
      stats.failures_by_integration.length
        ? h("div.chart.small", failuresCanvas)
        : note("ok", "No failed or dead jobs in this range."),
    ),
  );
  chart(eventsCanvas, {
    type: "line",
    data: {
      labels,
      datasets: [
        {
          label: "events",
          data: stats.buckets.map((b) => b.events),
          borderColor: colours.events,
          backgroundColor: colours.events + "33",
          fill: true,
          tension: 0.2,
        },
      ],
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  const series = (name, pick) => ({
    label: name,
    data: stats.buckets.map(pick),
    backgroundColor: colours[name],
    stack: "jobs",
  });
  chart(jobsCanvas, {
    type: "bar",
    data: {
      labels,
      datasets: [
        series("succeeded", (b) => b.jobs.succeeded),
        series("failed", (b) => b.jobs.failed),
        series("dead", (b) => b.jobs.dead),
        series("pending", (b) => b.jobs.queued + b.jobs.running),
      ],
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  });
  if (stats.failures_by_integration.length) {
    const rows = stats.failures_by_integration;
    chart(failuresCanvas, {
      type: "bar",
      data: {
        labels: rows.map((r) => r.integration),
        datasets: [
          { label: "failed", data: rows.map((r) => r.failed), backgroundColor: colours.failed, stack: "f" },
          { label: "dead", data: rows.map((r) => r.dead), backgroundColor: colours.dead, stack: "f" },
        ],
      },
      options: {
        indexAxis: "y",
        scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } },
      },
    });
  }
}
