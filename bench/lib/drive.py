#!/usr/bin/env python3
"""Drives the end-to-end benchmark: each run loads the hub, then Node-RED (and n8n when
asked), with the same wrk load, body and sink, and prints one RESULT line per (run,
system) and a Markdown table of the medians with the hub / anchor ratio of each run.

Called by bench/run.sh, which installs and builds first; see bench/README.md."""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
BODY = os.path.join(HERE, "body.json")
POST_LUA = os.path.join(HERE, "post.lua")


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# With --pin: the system under test runs on CPU 0, the load (wrk and the sink) on CPU 1.
PIN = False


def on_cpu(cpu, cmd):
    return ["taskset", "-c", str(cpu)] + cmd if PIN else cmd


def rss_kib(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
                kids.setdefault(int(s[s.rindex(")") + 2:].split()[1]), []).append(int(d))
            except (OSError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def tree_rss_kib(root):
    return sum(rss_kib(p) for p in tree(root))


def tree_cpu_s(root):
    """User + system CPU seconds used so far by a process tree."""
    ticks = 0
    for p in tree(root):
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
            fields = s[s.rindex(")") + 2:].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


class Sampler(threading.Thread):
    """Peak RSS of a process tree, sampled every 0.25 s until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self):
        while True:
            self.peak = max(self.peak, tree_rss_kib(self.pid))
            if self.done.wait(0.25):
                return

    def stop(self):
        self.done.set()
        self.join()
        return self.peak


def http(method, url, body=None, timeout=5):
    req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


class Sink:
    def __init__(self, node, port, logdir):
        self.port = port
        self.proc = subprocess.Popen(on_cpu(1, [node, os.path.join(HERE, "sink.js"), str(port)]),
                                     stdout=open(os.path.join(logdir, "sink.log"), "w"), stderr=subprocess.STDOUT)
        wait_until(lambda: self.count() >= 0, 10, "sink")

    def count(self):
        try:
            return json.loads(http("GET", f"http://127.0.0.1:{self.port}/count", timeout=2)[1])["count"]
        except OSError:
            return -1

    def settled(self, limit_s=30):
        """The count once it has not moved for 1 s (bounded)."""
        prev, cur = -2, self.count()
        end = time.time() + limit_s
        while cur != prev and time.time() < end:
            time.sleep(1)
            prev, cur = cur, self.count()
        return cur

    def stop(self):
        stop_process(self.proc)


def stop_process(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until(pred, secs, what):
    end = time.time() + secs
    while time.time() < end:
        if pred():
            return
        time.sleep(0.25)
    raise SystemExit(f"timed out waiting for {what}")


def webhook_ok(url):
    try:
        return http("POST", url, open(BODY, "rb").read())[0] == 200
    except OSError:
        return False


def wrk(url, conc, secs, args, salt, latency=False):
    env = dict(os.environ, BODY_FILE=BODY, ORDER_SALT=str(salt))
    cmd = ["wrk", f"-t{args.threads}", f"-c{conc}", f"-d{secs}s", "--timeout", "10s", "-s", POST_LUA, url]
    if latency:
        cmd.insert(1, "--latency")
    cmd = on_cpu(1, cmd)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=secs + 60).stdout
    for line in out.splitlines():
        if line.startswith("WRK_JSON "):
            return json.loads(line[len("WRK_JSON "):])
    raise SystemExit("wrk printed no summary:\n" + out)


class Hub:
    label = "cartwire"
    start_s = 120

    def __init__(self, args, rundir, sink_port):
        self.args, self.url = args, f"http://127.0.0.1:{args.hub_port}/hooks/thrivecart"
        self.db = os.path.join(rundir, "hub.db")
        cfg = open(os.path.join(HERE, "hub.yaml.in")).read()
        for k, v in {"HUB_PORT": args.hub_port, "HUB_THREADS": args.hub_threads, "DB": self.db,
                     "PLUGINS": os.path.join(args.build_dir, "lib", "plugins"), "WORKERS": args.workers,
                     "SINK_PORT": sink_port}.items():
            cfg = cfg.replace(f"@{k}@", str(v))
        self.config = os.path.join(rundir, "hub.yaml")
        open(self.config, "w").write(cfg)
        self.proc = subprocess.Popen(on_cpu(0, [os.path.join(args.build_dir, "cartwire"), "serve", "--config", self.config]),
                                     stdout=open(os.path.join(rundir, "hub.log"), "w"), stderr=subprocess.STDOUT)

    def checks(self):
        """Every accepted order became a job, and every job's attempt is in the log."""
        con = sqlite3.connect(self.db)
        q = lambda sql: con.execute(sql).fetchone()[0]
        out = {"events": q("SELECT COUNT(*) FROM events"), "jobs": q("SELECT COUNT(*) FROM jobs"),
               "succeeded": q("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'"),
               "attempts": q("SELECT COUNT(*) FROM attempts")}
        con.close()
        return out


class Anchor:
    """A system the hub is compared with: its flow file (in this directory) is
    pointed at the run's sink; it keeps no records to check afterwards."""

    def flow(self, name, sink_port, path):
        text = open(os.path.join(HERE, name)).read()
        open(path, "w").write(text.replace("http://127.0.0.1:18080/", f"http://127.0.0.1:{sink_port}/"))
        return path

    def checks(self):
        return {}


class NodeRed(Anchor):
    label = "node-red"
    start_s = 120

    def __init__(self, args, rundir, sink_port):
        self.url = f"http://127.0.0.1:{args.nr_port}/bench"
        userdir = os.path.join(rundir, "node-red")
        os.makedirs(userdir, exist_ok=True)
        flows = self.flow("nodered-flows.json", sink_port, os.path.join(userdir, "flows.json"))
        red = os.path.join(args.anchors, "node-red", "node_modules", "node-red", "red.js")
        self.proc = subprocess.Popen(on_cpu(0, [args.node, red, "--userDir", userdir, "--port", str(args.nr_port),
                                                "-D", "uiHost=127.0.0.1", "--no-telemetry", flows]),
                                     stdout=open(os.path.join(rundir, "node-red.log"), "w"), stderr=subprocess.STDOUT)


class N8n(Anchor):
    """n8n with its defaults (SQLite, every execution saved), the anchors' workflow:
    Webhook -> HTTP Request to the sink -> Respond to Webhook."""
    label = "n8n"
    start_s = 300  # its first start migrates a new database: minutes on this machine

    def __init__(self, args, rundir, sink_port):
        self.url = f"http://127.0.0.1:{args.n8n_port}/webhook/bench"
        home = os.path.join(rundir, "n8n")
        os.makedirs(home, exist_ok=True)
        workflow = self.flow("n8n-workflow.json", sink_port, os.path.join(rundir, "n8n-workflow.json"))
        env = dict(os.environ, N8N_USER_FOLDER=home, N8N_PORT=str(args.n8n_port), N8N_LISTEN_ADDRESS="127.0.0.1",
                   N8N_HOST="127.0.0.1", N8N_PROTOCOL="http", WEBHOOK_URL=f"http://127.0.0.1:{args.n8n_port}/",
                   DB_TYPE="sqlite", EXECUTIONS_MODE="regular", EXECUTIONS_DATA_SAVE_ON_SUCCESS="all",
                   EXECUTIONS_DATA_SAVE_ON_ERROR="all", N8N_DIAGNOSTICS_ENABLED="false",
                   N8N_VERSION_NOTIFICATIONS_ENABLED="false", N8N_TEMPLATES_ENABLED="false",
                   N8N_PERSONALIZATION_ENABLED="false", N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS="false",
                   N8N_SECURE_COOKIE="false", NODE_ENV="production")
        n8n = [args.node, os.path.join(args.anchors, "n8n", "node_modules", "n8n", "bin", "n8n")]
        out = open(os.path.join(rundir, "n8n.log"), "w")
        for cmd in (["import:workflow", f"--input={workflow}"], ["publish:workflow", "--id=BenchWebhook0001"]):
            if subprocess.run(n8n + cmd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=300).returncode:
                raise SystemExit(f"n8n {cmd[0]} failed: see {out.name}")
        self.proc = subprocess.Popen(on_cpu(0, n8n + ["start"]), env=env, stdout=out, stderr=subprocess.STDOUT)


def measure(system_cls, run, args, salt_base):
    rundir = os.path.join(args.workdir, f"r{run}-{system_cls.label}")
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    sink = Sink(args.node, args.sink_port, rundir)
    system = None
    try:
        system = system_cls(args, rundir, args.sink_port)
        pid = system.proc.pid
        wait_until(lambda: system.proc.poll() is None and webhook_ok(system.url), system.start_s,
                   f"{system.label} webhook")
        time.sleep(3)
        idle = tree_rss_kib(pid)
        wrk(system.url, args.conc, args.warmup, args, salt_base)
        c0 = sink.settled()
        sampler = Sampler(pid)
        sampler.start()
        cpu0 = tree_cpu_s(pid)
        w = wrk(system.url, args.conc, args.duration, args, salt_base + 1, latency=True)
        c_end = sink.count()  # deliveries inside the measured window
        c1 = sink.settled()   # ... and once the backlog has drained
        cpu = tree_cpu_s(pid) - cpu0  # of the system under test, while it took and delivered them
        peak = sampler.stop()
        hwm = rss_kib(pid, "VmHWM")
        secs = w["duration_us"] / 1e6
        errors = w["err_connect"] + w["err_read"] + w["err_write"] + w["err_status"] + w["err_timeout"]
        row = dict(system=system.label, run=run, conc=args.conc, secs=round(secs, 2),
                   accepted_rps=round((w["requests"] - w["err_status"]) / secs, 1), errors=errors,
                   p50_ms=round(w["lat_p50_us"] / 1000, 2), p99_ms=round(w["lat_p99_us"] / 1000, 2),
                   e2e_rps=round((c_end - c0) / secs, 1), delivered_window=c_end - c0, delivered_total=c1 - c0,
                   cpu_ms_per_delivery=round(cpu * 1000 / max(c1 - c0, 1), 3),
                   idle_rss_mb=round(idle / 1024, 1), peak_rss_mb=round(peak / 1024, 1),
                   hwm_mb=round(hwm / 1024, 1))
        stop_process(system.proc)
        row.update(system.checks())
        print("RESULT " + json.dumps(row), flush=True)
        return row
    finally:
        if system is not None:
            stop_process(system.proc)
        sink.stop()


def median(rows, key):
    return statistics.median(r[key] for r in rows)


ANCHORS = (("node-red", "Node-RED 5.0.7"), ("n8n", "n8n 2.41.1"))


def table(rows, args):
    hub = [r for r in rows if r["system"] == "cartwire"]
    keys = ["accepted_rps", "e2e_rps", "p50_ms", "p99_ms", "errors", "cpu_ms_per_delivery", "idle_rss_mb",
            "peak_rss_mb"]
    out = ["| system | runs | accepted/s | end-to-end deliveries/s | p50 ms | p99 ms | errors | CPU ms/delivery "
           "| idle RSS MB | peak RSS MB |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    systems = [("Cartwire (release, synchronous=full)", hub)]
    systems += [(name, [r for r in rows if r["system"] == label]) for label, name in ANCHORS]
    for name, rs in systems:
        if rs:
            out.append(f"| {name} | {len(rs)} | " + " | ".join(f"{median(rs, k):g}" for k in keys) + " |")
    for name, rs in systems[1:]:
        # Runs are numbered alike: each ratio compares the hub with an anchor measured minutes apart.
        anchor = {r["run"]: r["e2e_rps"] for r in rs}
        ratios = [h["e2e_rps"] / anchor[h["run"]] for h in hub if anchor.get(h["run"], 0) > 0]
        if ratios:
            out.append("")
            out.append(f"End-to-end ratio Cartwire / {name.split()[0]}, per run: "
                       f"{', '.join(f'{x:.2f}' for x in ratios)}; median {statistics.median(ratios):.2f}")
    out.append(f"(wrk -t{args.threads} -c{args.conc}, {args.warmup} s warm-up, {args.duration} s measured"
               + (", system under test on CPU 0, wrk and the sink on CPU 1)" if PIN else ")"))
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build-dir", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--anchors", required=True, help="where install-anchors.sh put node24, node-red and n8n")
    p.add_argument("--node", required=True)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--duration", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--conc", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--systems", default="cartwire,node-red")
    p.add_argument("--hub-port", type=int, default=18090)
    p.add_argument("--hub-threads", type=int, default=64)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--nr-port", type=int, default=18880)
    p.add_argument("--n8n-port", type=int, default=15678)
    p.add_argument("--sink-port", type=int, default=18080)
    p.add_argument("--pin", action="store_true", help="system under test on CPU 0, wrk and the sink on CPU 1")
    args = p.parse_args()
    global PIN
    PIN = args.pin
    args.build_dir, args.workdir = os.path.abspath(args.build_dir), os.path.abspath(args.workdir)
    systems = {"cartwire": Hub, "node-red": NodeRed, "n8n": N8n}
    unknown = [s for s in args.systems.split(",") if s and s not in systems]
    if unknown:
        raise SystemExit(f"unknown system {', '.join(unknown)} (known: {', '.join(systems)})")
    chosen = [systems[s] for s in args.systems.split(",") if s]
    rows = []
    for run in range(1, args.runs + 1):
        for i, cls in enumerate(chosen):
            log(f"run {run}/{args.runs}: {cls.label}")
            rows.append(measure(cls, run, args, salt_base=(run * 10 + i * 2) % 100))
    print(table(rows, args))


if __name__ == "__main__":
    main()
