#!/usr/bin/env python3
"""The admin API against its documentation: starts the real cartwire binary
with a ThriveCart source and a Notify URL sink (one that answers 200, one that
answers 500), sends orders, then calls every documented read route and a few
writes, and checks each answer against docs/admin-api.yaml: the status is one
the document lists, the body matches the response schema, and the body holds
no property the document does not declare.

  admin_contract.py <cartwire binary> <plugin dir> <docs/admin-api.yaml>
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes"))
from fakelib import _openapi_to_jsonschema  # noqa: E402

TOKEN = "contract-admin-token-5f4e3d2c1b"
TC_SECRET = "contract-thrivecart-word"
FAILURES = []


def listening(log_path):
    """The webhook and admin ports the hub says it listens on (it picks them: port 0), or None before it says so."""
    with open(log_path) as f:
        text = f.read()
    hook = re.search(r"listening on http://127\.0\.0\.1:(\d+) ", text)
    admin = re.search(r"admin API and console on http://127\.0\.0\.1:(\d+)", text)
    return (int(hook.group(1)), int(admin.group(1))) if hook and admin else None


class Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status = 500 if self.path.startswith("/broken") else 200
        body = b'{"ok":true}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Spec:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = _openapi_to_jsonschema(yaml.safe_load(f))
        self.resolver = jsonschema.RefResolver.from_schema(self.doc)

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            node = self.resolver.resolve(node["$ref"])[1]
        return node

    def response(self, method, template, status):
        responses = self.doc["paths"][template][method.lower()]["responses"]
        entry = responses.get(str(status)) or responses.get("default")
        if entry is None:
            return None, sorted(responses)
        entry = self.resolve(entry)
        media = entry.get("content", {}).get("application/json", {})
        return media.get("schema", {}), None

    def undeclared(self, schema, value, where):
        """Properties of `value` that `schema` does not declare (objects that declare any)."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return []
        out = []
        branches = [self.resolve(b) for b in schema.get("allOf", []) + schema.get("anyOf", []) + schema.get("oneOf", [])]
        if isinstance(value, dict):
            declared = dict(schema.get("properties", {}))
            open_ended = schema.get("additionalProperties") not in (None, False)
            for b in branches:
                declared.update(b.get("properties", {}))
                open_ended = open_ended or b.get("additionalProperties") not in (None, False)
            if declared and not open_ended:
                out += [f"{where}.{k}" for k in value if k not in declared]
            for k, v in value.items():
                if k in declared:
                    out += self.undeclared(declared[k], v, f"{where}.{k}")
        elif isinstance(value, list):
            items = schema.get("items") or next((b["items"] for b in branches if "items" in b), None)
            if items is not None:
                for i, v in enumerate(value):
                    out += self.undeclared(items, v, f"{where}[{i}]")
        return out

    def check(self, method, template, status, body):
        name = f"{method} {template} -> {status}"
        schema, listed = self.response(method, template, status)
        if schema is None:
            FAILURES.append(f"{name}: status not documented (documented: {', '.join(listed)})")
            return
        errors = [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
                  for e in jsonschema.Draft7Validator(schema, resolver=self.resolver).iter_errors(body)]
        errors += [f"{p}: not in the document" for p in self.undeclared(schema, body, "(body)")]
        for e in errors[:10]:
            FAILURES.append(f"{name}: {e}")
        print(f"{'ok  ' if not errors else 'FAIL'} {name}", flush=True)


def call(port, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def order(order_id, email):
    fields = {
        "event": "order.success", "mode": "live", "thrivecart_secret": TC_SECRET, "base_product": "12",
        "order_id": order_id, "invoice_id": "1", "order_timestamp": "1768471200", "currency": "USD",
        "customer[email]": email, "customer[first_name]": "Ann", "customer[last_name]": "Lee",
        "order[total]": "4995", "order[charges][0][item_type]": "product", "order[charges][0][reference]": "12",
        "order[charges][0][name]": "Course", "order[charges][0][amount]": "4995",
        "order[charges][0][amount_str]": "49.95", "order[charges][0][type]": "single",
    }
    return urllib.parse.urlencode(fields).encode()


def wait_for(predicate, seconds, what):
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def main():
    binary, plugins, spec_path = (os.path.abspath(a) for a in sys.argv[1:4])
    spec = Spec(spec_path)
    work = tempfile.mkdtemp(prefix="cartwire-api-contract-")
    sink = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    sink_url = f"http://127.0.0.1:{sink.server_address[1]}"
    with open(os.path.join(work, "hub.yaml"), "w") as f:
        f.write(f"""server:
  listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
  token: "${{ADMIN_TOKEN}}"
storage:
  path: {work}/hub.db
plugins:
  dir: {plugins}
runner:
  workers: 2
  poll_interval: 50ms
  retry: {{initial_delay: 100ms, max_delay: 200ms, horizon: 500ms}}
sources:
  thrivecart:
    connector: thrivecart
    settings: {{secret: "{TC_SECRET}"}}
integrations:
  sink:
    connector: notifyurl
    settings: {{url: "{sink_url}/ok", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}
  broken:
    connector: notifyurl
    settings: {{url: "{sink_url}/broken"}}
rules:
  - {{name: notify, on: order.completed, do: sink.post}}
  - {{name: doomed, on: product.purchased, do: broken.post}}
""")
    log = open(os.path.join(work, "hub.log"), "w")
    hub = subprocess.Popen([binary, "serve", "--config", os.path.join(work, "hub.yaml")], stdout=log,
                           stderr=subprocess.STDOUT, env=dict(os.environ, ADMIN_TOKEN=TOKEN))
    try:
        log_path = os.path.join(work, "hub.log")
        wait_for(lambda: hub.poll() is not None or listening(log_path), 20, "the hub to listen")
        if hub.poll() is not None:
            raise SystemExit("the hub exited; log:\n" + open(log_path).read())
        hook_port, admin_port = listening(log_path)

        def up():
            if hub.poll() is not None:
                return True
            try:
                return call(admin_port, "GET", "/healthz")[0] == 200
            except OSError:
                return False
        wait_for(up, 20, "the hub")
        if hub.poll() is not None:
            raise SystemExit("the hub exited; log:\n" + open(log_path).read())
        for n, email in enumerate(["ann@example.com", "bob@example.com"]):
            req = urllib.request.Request(f"http://127.0.0.1:{hook_port}/hooks/thrivecart", data=order(str(9000 + n), email),
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            try:
                urllib.request.urlopen(req, timeout=10).close()
            except urllib.error.HTTPError as e:
                raise SystemExit(f"the order webhook got {e.code}: {e.read()[:300]!r}")

        def settled():
            jobs = json.loads(call(admin_port, "GET", "/api/jobs?limit=200")[1])["items"]
            return len(jobs) == 4 and all(j["state"] in ("succeeded", "dead") for j in jobs)
        wait_for(settled, 30, "the jobs to succeed or die")

        def check(method, template, path=None, body=None):
            status, raw = call(admin_port, method, path or template, body)
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                FAILURES.append(f"{method} {template}: not JSON: {raw[:200]!r}")
                return None
            spec.check(method, template, status, parsed)
            return parsed

        for route in ["/healthz", "/readyz", "/api/session", "/api/status", "/api/integrations", "/api/sources", "/api/rules",
                      "/api/plugins", "/api/stats"]:
            check("GET", route)
        check("GET", "/api/integrations/{id}", "/api/integrations/sink")
        check("POST", "/api/sources/{id}/poll-again", "/api/sources/nope/poll-again")
        check("POST", "/api/sources/{id}/poll-again", "/api/sources/thrivecart/poll-again")
        check("GET", "/api/integrations/{id}", "/api/integrations/nope")
        events = check("GET", "/api/events", "/api/events?limit=2")
        check("GET", "/api/events", "/api/events?limit=2&before=" + urllib.parse.quote(str(events.get("next") or "")))
        check("GET", "/api/events/{id}", f"/api/events/{events['items'][0]['id']}")
        check("GET", "/api/events/{id}", "/api/events/999999")
        check("GET", "/api/events", "/api/events?since=yesterday")
        jobs = check("GET", "/api/jobs", "/api/jobs?limit=200")
        for job in jobs["items"]:
            check("GET", "/api/jobs/{id}", f"/api/jobs/{job['id']}")
        check("GET", "/api/jobs", "/api/jobs?state=dead&integration=broken")
        check("GET", "/api/timeline", "/api/timeline?email=ANN@example.com")
        check("GET", "/api/stats", "/api/stats?bucket=5m")
        dead = next(j for j in jobs["items"] if j["state"] == "dead")
        done = next(j for j in jobs["items"] if j["state"] == "succeeded")
        check("POST", "/api/jobs/{id}/replay", f"/api/jobs/{dead['id']}/replay")
        check("POST", "/api/jobs/{id}/replay", f"/api/jobs/{done['id']}/replay")
        check("POST", "/api/jobs/replay", body={"filter": {"integration": "broken", "state": ["dead"]}})
        check("POST", "/api/jobs/replay", body={"filter": {"integration": "broken"}, "rule": "current"})
        check("POST", "/api/jobs/{id}/replay", f"/api/jobs/{done['id']}/replay", body={"rule": "current"})
        check("GET", "/api/jobs/{id}", f"/api/jobs/{dead['id']}")
        test_event = {"event": {"type": "product.purchased", "dedupe_key": "contract-1",
                                "customer": {"email": "cat@example.com"},
                                "item": {"reference": "product-12", "type": "product"}}}
        check("POST", "/api/dry-run", body=test_event)
        check("POST", "/api/events/test", body=test_event)
        check("POST", "/api/events/test", body=test_event)
        check("POST", "/api/dry-run", body={"event": {"customer": {}}})
    finally:
        hub.terminate()
        hub.wait(15)
        sink.shutdown()
    if FAILURES:
        print("\nThe admin API and docs/admin-api.yaml disagree:")
        for f in FAILURES:
            print("  " + f)
        print(f"(hub data in {work})")
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    print("every answer matches docs/admin-api.yaml")


if __name__ == "__main__":
    main()
