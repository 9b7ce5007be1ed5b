"""Shared machinery for the fake vendor servers used by the end-to-end tests.

A fake is a small local HTTP server that behaves like the vendor's real API as
the vendor documents it: it checks authentication and headers,
validates request bodies against the vendor's published OpenAPI schema, keeps
state (users, enrollments, contacts ...), pages lists, and rate-limits with
429s. Tests drive it over real sockets and inspect it through /__fake/*:

  GET  /__fake/health     200 when up
  GET  /__fake/requests   every request received (method, path, query, headers, body, status; started
                          and ended: when it came and when its answer left, in seconds of a monotonic clock)
  GET  /__fake/state      the fake's state as JSON
  POST /__fake/fail       {"path": "/regex", "status": 503, "times": 2, "headers": {...}} — scripted failures
  POST /__fake/slow       {"path": "/regex", "seconds": 3, "times": 1} — answers that take their time
  POST /__fake/hold       {"path": "/regex", "times": 1} — requests answered only after POST /__fake/release
  GET  /__fake/held       {"held": n}: the requests held now
  POST /__fake/state      replace parts of the state (seed data)
"""
import argparse
import copy
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jsonschema
import yaml

SPEC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "specs")


class HttpError(Exception):
    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _openapi_to_jsonschema(node):
    """OpenAPI 3.0 schemas are JSON Schema plus `nullable`; make them plain JSON Schema."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _openapi_to_jsonschema(v) for k, v in node.items() if k not in ("example", "examples", "discriminator", "xml")}
    if out.pop("nullable", False):
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else list(out["type"]) + ["null"]
        elif "$ref" in out:
            out = {"anyOf": [{"$ref": out.pop("$ref")}, {"type": "null"}], **out}
    return out


class OpenApi:
    """Request-body validation against one vendor OpenAPI document (refs across files resolve)."""

    def __init__(self, relative_path):
        self.path = os.path.join(SPEC_DIR, relative_path)
        self.doc = self._load(self.path)
        self._store = {}

    @staticmethod
    def _load(path):
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f) if path.endswith((".yml", ".yaml")) else json.load(f)
        return _openapi_to_jsonschema(raw)

    def _resolver(self, base_path, doc):
        def handler(uri):
            target = os.path.normpath(os.path.join(os.path.dirname(base_path), uri.replace("file://", "").split("#")[0]))
            if target not in self._store:
                self._store[target] = self._load(target)
            return self._store[target]

        return jsonschema.RefResolver(base_uri="file://" + base_path, referrer=doc, handlers={"file": handler, "": handler})

    def request_schema(self, method, path_template):
        op = self.doc["paths"][path_template][method.lower()]
        body = op.get("requestBody")
        if not body:
            return None
        if "$ref" in body:
            name = body["$ref"].split("/")[-1]
            body = self.doc["components"]["requestBodies"][name]
        content = body.get("content", {})
        media = content.get("application/json") or next(iter(content.values()), {})
        return media.get("schema")

    def validate(self, method, path_template, body):
        """Returns a list of error strings (empty when valid)."""
        schema = self.request_schema(method, path_template)
        if schema is None:
            return []
        validator = jsonschema.Draft7Validator(schema, resolver=self._resolver(self.path, self.doc))
        return [f"{'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message}" for e in validator.iter_errors(body)]


class RateLimiter:
    """A fixed window per key: `limit` requests per `window` seconds."""

    def __init__(self, limit, window):
        self.limit, self.window = limit, window
        self.lock = threading.Lock()
        self.windows = {}

    def check(self, key):
        now = time.monotonic()
        with self.lock:
            start, count = self.windows.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            count += 1
            self.windows[key] = (start, count)
            remaining = max(0, self.limit - count)
            reset = max(0.0, self.window - (now - start))
            return count <= self.limit, remaining, reset


class Fake:
    """Base of a vendor fake: register routes with @route, keep state in self.state."""

    routes = []

    def __init__(self):
        self.lock = threading.RLock()
        self.requests = []
        self.failures = []
        self.slow = []
        self.holds = []
        self.held = 0
        self.released = threading.Condition(self.lock)
        self.state = self.initial_state()

    def initial_state(self):
        return {}

    @classmethod
    def route(cls, method, pattern):
        def wrap(fn):
            cls.routes.append((method, re.compile("^" + pattern + "$"), fn))
            return fn

        return wrap

    # Overridden by vendors: raise HttpError for auth problems.
    def authenticate(self, req):
        pass

    def dispatch(self, req):
        delay = 0
        with self.lock:
            for slow in self.slow:
                if slow["times"] > 0 and re.search(slow["path"], req["path"]):
                    slow["times"] -= 1
                    delay = slow["seconds"]
                    break
        time.sleep(delay)  # without the lock: other requests are answered meanwhile
        with self.lock:
            hold = next((h for h in self.holds if h["times"] > 0 and re.search(h["path"], req["path"])), None)
            if hold:
                hold["times"] -= 1
                self.held += 1
                self.released.wait_for(lambda: hold.get("released"))  # waiting lets go of the lock
                self.held -= 1
        with self.lock:
            for failure in self.failures:
                if failure["times"] > 0 and re.search(failure["path"], req["path"]) and failure.get("method", req["method"]) == req["method"]:
                    failure["times"] -= 1
                    raise HttpError(failure["status"], failure.get("body", {"error": "scripted failure"}), failure.get("headers", {}))
        self.authenticate(req)
        for method, pattern, fn in type(self).routes:
            m = pattern.match(req["path"])
            if m and method == req["method"]:
                with self.lock:
                    return fn(self, req, *m.groups())
        raise HttpError(404, {"error": f"no route {req['method']} {req['path']}"})


def make_handler(fake):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet
            pass

        def _send(self, status, body, headers=None):
            data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self):
            started = time.monotonic()
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if url.path.startswith("/__fake/"):
                return self._admin(url.path, raw)
            req = {
                "method": self.command,
                "path": url.path,
                "query": {k: v[-1] for k, v in parse_qs(url.query).items()},
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "raw": raw.decode("utf-8", "replace"),
                "body": None,
            }
            status, body, headers = 500, {"error": "unhandled"}, {}
            try:
                if raw:
                    try:
                        req["body"] = json.loads(raw)
                    except ValueError:
                        raise HttpError(400, {"error": "body is not valid JSON"})
                result = fake.dispatch(req)
                status, body = (result if isinstance(result, tuple) else (200, result))[:2]
                headers = result[2] if isinstance(result, tuple) and len(result) > 2 else {}
            except HttpError as e:
                status, body, headers = e.status, e.body, e.headers
            with fake.lock:
                fake.requests.append({k: req[k] for k in ("method", "path", "query", "headers", "body")}
                                     | {"status": status, "started": started, "ended": time.monotonic()})
            self._send(status, body, headers)

        def _admin(self, path, raw):
            with fake.lock:
                if path == "/__fake/health":
                    return self._send(200, {"ok": True})
                if path == "/__fake/requests":
                    return self._send(200, fake.requests)
                if path == "/__fake/state" and self.command == "GET":
                    return self._send(200, fake.state)
                if path == "/__fake/state":
                    fake.state.update(json.loads(raw or b"{}"))
                    return self._send(200, fake.state)
                if path == "/__fake/fail":
                    fake.failures.append(json.loads(raw))
                    return self._send(200, {"ok": True})
                if path == "/__fake/slow":
                    fake.slow.append(json.loads(raw))
                    return self._send(200, {"ok": True})
                if path == "/__fake/hold":
                    fake.holds.append(json.loads(raw))
                    return self._send(200, {"ok": True})
                if path == "/__fake/held":
                    return self._send(200, {"held": fake.held})
                if path == "/__fake/release":
                    for hold in fake.holds:
                        hold["released"] = True
                    fake.released.notify_all()
                    return self._send(200, {"ok": True})
            return self._send(404, {"error": "unknown admin path"})

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return Handler


def serve(fake_class):
    parser = argparse.ArgumentParser(description=fake_class.__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(fake_class()))
    server.daemon_threads = True
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
