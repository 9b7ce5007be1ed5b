"""The SDK's example connector acme (sdk/examples/acme), built out of tree, in the real hub against the fake
Acme API (tests/fakes/acme.py): its paged list refreshes, its action adds a ThriveCart buyer to a group with
the mapped fields (retried after a 429, given up on a 404), its webhook trigger, whose source has no API key,
stores a signed request and refuses a badly signed one, and its poll trigger stores the changes of Acme's feed
once each.

Usage: sdk_example.py <cartwire binary> <plugins dir with acme.so and thrivecart.so> <work dir>
"""
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

FAKES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fakes")
API_KEY = "acme_live_9f2c41d7e8b3"  # the fake's
WEBHOOK_SECRET = "whs_5e0b7a93c1d24f68"
TC_SECRET = "tc-secret-word-3141"
ADMIN_TOKEN = "sdk-example-admin-token-2718"

HUB_YAML = """\
server: {{listen: 127.0.0.1:0}}
admin: {{listen: 127.0.0.1:0, token: "${{CARTWIRE_ADMIN_TOKEN}}"}}
plugins: {{dir: {plugins}}}
storage: {{path: {work}/acme.db}}
runner: {{poll_interval: 100ms, retry: {{initial_delay: 100ms}}}}
sources:
  thrivecart: {{connector: thrivecart, settings: {{secret: "${{THRIVECART_SECRET}}"}}}}
  acme-hooks:
    connector: acme
    settings: {{webhook_secret: "${{ACME_WEBHOOK_SECRET}}"}}    # webhooks need no API key
  acme-changes:
    connector: acme
    trigger: members_changed
    every: 200ms
    settings: {{api_key: "${{ACME_API_KEY}}", base_url: "{acme}"}}
integrations:
  acme:
    connector: acme
    settings: {{api_key: "${{ACME_API_KEY}}", base_url: "{acme}"}}
    fields: {{first_name: customer.first_name, plan: item.name}}
rules:
  - name: join
    on: product.purchased
    do: acme.add_member
    with: {{group: grp_2}}
  - name: join-gone
    on: order.completed
    do: acme.add_member
    with: {{group: grp_gone}}
"""


def call(method, url, body=None, headers=None):
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read().decode()


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


def eventually(check, what, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting: " + what)


class Run:
    def __init__(self, work):
        self.work = work
        self.processes = []

    def start_all(self, binary, plugins):
        fake = self.start([sys.executable, os.path.join(FAKES, "acme.py"), "--port", "0"], "fake.log")
        port = eventually(lambda: self.logged("fake.log", r"listening on 127\.0\.0\.1:(\d+)", fake), "the fake")
        self.acme = "http://127.0.0.1:" + port
        with open(os.path.join(self.work, "hub.yaml"), "w") as f:
            f.write(HUB_YAML.format(plugins=plugins, work=self.work, acme=self.acme))
        secrets = {"CARTWIRE_ADMIN_TOKEN": ADMIN_TOKEN, "ACME_API_KEY": API_KEY, "ACME_WEBHOOK_SECRET": WEBHOOK_SECRET,
                   "THRIVECART_SECRET": TC_SECRET}
        hub = self.start([binary, "serve", "--config", os.path.join(self.work, "hub.yaml")], "hub.log", secrets)
        self.hub = eventually(lambda: self.logged("hub.log", r"listening on (http://[\d.:]+)", hub), "the hub")
        self.admin = eventually(lambda: self.logged("hub.log", r"admin API and console on (http://[\d.:]+)", hub),
                                "the admin API")

    def start(self, argv, log, env=None):
        with open(os.path.join(self.work, log), "w") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=os.environ | (env or {}))
        self.processes.append(process)
        return process

    def logged(self, log, pattern, process):
        with open(os.path.join(self.work, log)) as f:
            text = f.read()
        expect(process.poll() is None, f"the process logging to {log} ended:\n{text}")
        found = re.search(pattern, text)
        return found and found.group(1)

    def stop(self):
        for process in self.processes:
            process.terminate()
            process.wait()

    def api(self, method, path, body=None):
        status, text = call(method, self.admin + path, body, {"Authorization": "Bearer " + ADMIN_TOKEN})
        expect(200 <= status < 300, f"{method} {path}: {status} {text}")
        return json.loads(text)

    def received(self, method, path):
        requests = json.loads(call("GET", self.acme + "/__fake/requests")[1])
        return [r for r in requests if r["method"] == method and r["path"] == path]

    def events(self, source):
        return self.api("GET", "/api/events?source=" + source)["items"]

    def job(self, rule, state):
        jobs = self.api("GET", f"/api/jobs?rule={rule}&state={state}")["items"]
        return jobs and self.api("GET", f"/api/jobs/{jobs[0]['id']}")


def refreshes_the_paged_list(run):
    run.api("POST", "/api/integrations/acme/lists/groups/refresh")
    groups = run.api("GET", "/api/integrations/acme/lists/groups")["items"]
    expect([g["id"] for g in groups] == ["grp_1", "grp_2", "grp_3"], f"groups: {groups}")
    expect([r["query"] for r in run.received("GET", "/groups")] == [{"page": "1"}, {"page": "2"}], "not two pages")
    print("the groups list refreshed, two pages")


def adds_the_buyer_with_mapped_fields(run):
    call("POST", run.acme + "/__fake/fail",
         {"path": "^/groups/grp_2/members$", "status": 429, "times": 1, "headers": {"Retry-After": "1"}})
    order = [("event", "order.success"), ("mode", "live"), ("mode_int", "2"), ("thrivecart_account", "acme"),
             ("thrivecart_secret", TC_SECRET), ("base_product", "12"), ("order_id", "1514394"),
             ("invoice_id", "000000004"), ("currency", "USD"), ("customer_id", "4244502"),
             ("customer[email]", "ann@example.com"), ("customer[name]", "Ann Lee"),
             ("customer[first_name]", "Ann"), ("customer[last_name]", "Lee"),
             ("order[charges][0][item_type]", "product"), ("order[charges][0][reference]", "12"),
             ("order[charges][0][name]", "Pro course"), ("order[charges][0][amount]", "4995"),
             ("order[charges][0][amount_str]", "49.95"), ("order[charges][0][type]", "single"),
             ("purchase_map[0]", "product-12"), ("order_timestamp", "1768471200"), ("order[total]", "4995"),
             ("order[total_str]", "49.95"), ("order[processor]", "stripe")]
    status, text = call("POST", run.hub + "/hooks/thrivecart", urllib.parse.urlencode(order, safe="[]").encode(),
                        {"Content-Type": "application/x-www-form-urlencoded"})
    expect(status == 200, f"the order: {status} {text}")

    done = eventually(lambda: run.job("join", "succeeded"), "the add_member job")
    attempts = done["attempts"]
    expect([a["outcome"] for a in attempts] == ["retryable", "ok"], f"outcomes: {attempts}")
    expect("HTTP 429" in attempts[0]["error"], attempts[0]["error"])
    tries = run.received("POST", "/groups/grp_2/members")
    expect([r["status"] for r in tries] == [429, 201], f"Acme answered {tries}")
    sent = tries[-1]
    expect(sent["body"] == {"email": "ann@example.com", "fields": {"first_name": "Ann", "plan": "Pro course"}},
           f"body: {sent['body']}")
    expect(sent["headers"]["authorization"] == "Bearer " + API_KEY, "no Bearer key")
    # The same key on every attempt of the job: Acme adds the member once.
    expect({r["headers"].get("idempotency-key") for r in tries} == {f"job_{done['job']['id']}"}, f"keys: {tries}")
    recorded = attempts[1]["exchanges"][0]["request"]
    expect(recorded["headers"]["authorization"] == "[redacted]", f"the attempt shows {recorded['headers']}")
    expect(API_KEY not in json.dumps(done), "the API key is in the execution log")
    settings = run.api("GET", "/api/integrations/acme")["settings"]
    expect(settings["api_key"] == "[redacted]", f"the API shows the settings {settings}")
    print("the order's buyer was added with the mapped fields, after a 429; the key masked in the attempt")

    gone = eventually(lambda: run.job("join-gone", "failed"), "the add_member job of an unknown group")
    expect([a["outcome"] for a in gone["attempts"]] == ["permanent"], f"outcomes: {gone['attempts']}")
    print("a 404 failed the job at once")


def takes_signed_webhooks_only(run):
    body = json.dumps({"id": "evt_1001", "type": "member.joined", "created_at": "2026-01-15T10:00:00Z",
                       "member": {"email": "bob@example.com", "first_name": "Bob"}}).encode()
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    url = run.hub + "/hooks/acme-hooks"
    for headers, reason in (({"Acme-Signature": signature.replace("sha256=", "sha256=0")}, "does not match the body"),
                            ({}, "is missing")):
        status, text = call("POST", url, body, {"Content-Type": "application/json"} | headers)
        expect(status == 401 and reason in text, f"a badly signed webhook: {status} {text}")
    status, text = call("POST", url, body, {"Content-Type": "application/json", "Acme-Signature": signature})
    expect(status == 200, f"a signed webhook: {status} {text}")
    events = run.events("acme-hooks")
    expect(len(events) == 1 and events[0]["type"] == "acme.member.joined", f"events: {events}")
    event = run.api("GET", f"/api/events/{events[0]['id']}")["event"]
    expect(event["customer"] == {"email": "bob@example.com", "first_name": "Bob"}, f"event: {event}")
    expect(event["dedupe_key"] == "acme:event:evt_1001" and event["occurred_at"] == "2026-01-15T10:00:00Z",
           f"event: {event}")
    print("a signed webhook was stored; a badly signed and an unsigned one refused with 401")


def polls_the_change_feed(run):
    def change(n, email):
        return {"id": f"chg_{n}", "changed_at": f"2026-01-15T10:0{n}:00Z", "member": {"email": email}}

    call("POST", run.acme + "/__fake/state", {"changes": [change(1, "cy@example.com")]})
    eventually(lambda: len(run.events("acme-changes")) == 1, "the first change")
    call("POST", run.acme + "/__fake/state", {"changes": [change(1, "cy@example.com"), change(2, "di@example.com")]})
    eventually(lambda: len(run.events("acme-changes")) == 2, "the second change")
    # Each poll starts where the previous one stopped, from the cursor the hub kept.
    eventually(lambda: {"since": "2"} in [r["query"] for r in run.received("GET", "/members/changes")],
               "a poll from the second change on")
    events = run.events("acme-changes")
    expect(sorted((e["type"], e["email"]) for e in events) ==
           [("acme.member.changed", "cy@example.com"), ("acme.member.changed", "di@example.com")], f"events: {events}")
    print("each change of the feed was stored once")


def main():
    binary, plugins, work = sys.argv[1:4]
    run = Run(work)
    try:
        run.start_all(binary, plugins)
        refreshes_the_paged_list(run)
        adds_the_buyer_with_mapped_fields(run)
        takes_signed_webhooks_only(run)
        polls_the_change_feed(run)
    except AssertionError as e:
        with open(os.path.join(work, "hub.log")) as log:
            print(f"{e}\n--- hub log:\n{log.read()}", file=sys.stderr)
        return 1
    finally:
        run.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
