"""Fake Encharge: the Ingest API and the parts of the REST API the connector calls, as Encharge documents them.

Ingest (write key in X-Encharge-Token):
  POST /v1/ and /v1     one event object {name, user, properties?, sourceIp?}; "identify" only
                        creates/updates the person. 401 without or with an unknown key, 400 when
                        the body is not the documented shape (name, user with email or userId,
                        properties an object, user.tags a comma-separated string).
REST (API key in X-Encharge-Token or ?token=), bodies validated against Encharge's OpenAPI:
  POST /v1/people (array), GET /v1/people?people[0][email]=..., GET /v1/people/all (limit/offset),
  POST /v1/tags, DELETE /v1/tags (the person must exist, else 404), GET /v1/tags-management,
  GET /v1/tags-management/counts, GET /v1/fields, POST /v1/people/unsubscribe.

Encharge publishes no rate limits, so the fake imposes none; script 429s/503s with /__fake/fail.

State (replace parts through POST /__fake/state):
  write_keys, api_keys   accepted keys (WRITE_KEY, API_KEY below)
  people                 {lower-case email: person}; a person's "tags" is a list here
  events                 every tracked event: {name, email, user, properties}, oldest first
  fields                 person fields; unknown user keys are added as custom string/number/boolean fields
"""
import datetime
import os
import re
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakelib import Fake, HttpError, OpenApi, serve  # noqa: E402

WRITE_KEY = "wk_e2e_4c1d7a9b3f2e8d6c"
API_KEY = "ak_e2e_9b8a7c6d5e4f3a2b"
SPEC = OpenApi("encharge/encharge-openapi.yml")
INGEST_KEYS = {"name", "user", "properties", "sourceIp", "type", "objectType"}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def field(name, title, type_="string", fmt=None, first_class=True):
    f = {"name": name, "title": title, "type": type_, "readOnly": False, "canMapFrom": True,
         "firstClassField": first_class, "array": False, "createdBy": "system" if first_class else "api"}
    if fmt:
        f["format"] = fmt
    return f


def default_fields():
    return [field("email", "Email", fmt="email"), field("userId", "User ID"), field("name", "Name"),
            field("firstName", "First name"), field("lastName", "Last name"), field("phone", "Phone"),
            field("company", "Company"), field("ip", "IP address"), field("tags", "Tags"),
            field("createdAt", "Created at", fmt="date-time")]


def split_tags(text):
    return [t.strip() for t in text.split(",") if t.strip()]


def bad_request(message):
    return HttpError(400, {"error": {"message": message}})


class Encharge(Fake):
    """Fake Encharge Ingest and REST APIs."""

    routes = []

    def initial_state(self):
        return {"write_keys": [WRITE_KEY], "api_keys": [API_KEY], "people": {}, "events": [],
                "fields": default_fields(), "tag_meta": {}}

    def authenticate(self, req):
        token = req["headers"].get("x-encharge-token", "")
        if req["path"] in ("/v1", "/v1/"):
            if not token:
                raise HttpError(401, {"error": {"message": "Missing Encharge write key."}})
            if token not in self.state["write_keys"]:
                raise HttpError(401, {"error": {"message": "Invalid Encharge write key."}})
            return
        token = token or req["query"].get("token", "")
        if token not in self.state["api_keys"]:
            raise HttpError(401, {"error": {"message": "Unauthorized. Check your API key."}})

    # --- people -----------------------------------------------------------------------------

    def find(self, ids):
        """The person named by any of id/userId/email, or None."""
        people = self.state["people"]
        email = ids.get("email")
        if isinstance(email, str) and email.strip().lower() in people:
            return people[email.strip().lower()]
        for p in people.values():
            if ids.get("id") and p["id"] == ids["id"]:
                return p
            if ids.get("userId") not in (None, "") and str(p.get("userId")) == str(ids["userId"]):
                return p
        return None

    def remember_field(self, key, value):
        if any(f["name"] == key for f in self.state["fields"]):
            return
        type_ = "boolean" if isinstance(value, bool) else "number" if isinstance(value, (int, float)) else "string"
        self.state["fields"].append(field(key, key, type_, first_class=False))

    def upsert(self, user):
        person = self.find(user)
        if person is None:
            email = user.get("email")
            person = {"id": str(uuid.uuid4()), "tags": [], "createdAt": now()}
            key = email.strip().lower() if isinstance(email, str) and email.strip() else f"userId:{user['userId']}"
            self.state["people"][key] = person
        for k, v in user.items():
            if k == "tags":
                for tag in split_tags(v):
                    if tag not in person["tags"]:
                        person["tags"].append(tag)
                    self.state["tag_meta"].setdefault(tag, {"tag": tag, "createdAt": now()})
                continue
            if k == "id":
                continue
            self.remember_field(k, v)
            person[k] = v
        person["updatedAt"] = now()
        return person

    def public(self, person):
        out = {k: v for k, v in person.items() if k != "tags"}
        out["tags"] = ",".join(person["tags"])
        return out


# --- Ingest API -------------------------------------------------------------------------------

@Encharge.route("POST", r"/v1/?")
def ingest(fake, req):
    if not req["headers"].get("content-type", "").lower().startswith("application/json"):
        raise bad_request("Content-Type must be application/json.")
    body = req["body"]
    if not isinstance(body, dict):
        raise bad_request("Body must be a JSON object describing one event.")
    unknown = sorted(set(body) - INGEST_KEYS)
    if unknown:
        raise bad_request(f"Unknown field(s): {', '.join(unknown)}.")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("Missing event name.")
    user = body.get("user")
    if not isinstance(user, dict):
        raise bad_request("Missing user.")
    email, user_id = user.get("email"), user.get("userId")
    if not (isinstance(email, str) and email.strip()) and user_id in (None, ""):
        raise bad_request("User must have an email or userId.")
    if email is not None and (not isinstance(email, str) or "@" not in email):
        raise bad_request("Invalid email.")
    if "tags" in user and not isinstance(user["tags"], str):
        raise bad_request("user.tags must be a comma-separated string.")
    if "properties" in body and not isinstance(body["properties"], dict):
        raise bad_request("properties must be an object.")
    if "sourceIp" in body and not isinstance(body["sourceIp"], str):
        raise bad_request("sourceIp must be a string.")
    person = fake.upsert(user)
    if name != "identify":
        fake.state["events"].append({"name": name, "email": person.get("email"), "user": user,
                                     "properties": body.get("properties", {}), "receivedAt": now()})
    return 200, {"status": "success"}


# --- REST API ---------------------------------------------------------------------------------

def validated(req, template):
    errors = SPEC.validate(req["method"], template, req["body"])
    if errors:
        raise bad_request("; ".join(errors))
    return req["body"]


def identifiers(body):
    if not any(body.get(k) not in (None, "") for k in ("id", "userId", "email")):
        raise bad_request("At least one of id/userId/email must be specified.")
    return body


@Encharge.route("POST", r"/v1/people")
def create_update_people(fake, req):
    body = validated(req, "/people")
    users = []
    for user in body:
        identifiers(user)
        if "tags" in user and not isinstance(user["tags"], str):
            raise bad_request("tags must be a comma-separated string.")
        users.append(fake.public(fake.upsert(user)))
    return 200, {"users": users}


@Encharge.route("GET", r"/v1/people")
def get_people(fake, req):
    wanted = {}
    for key, value in req["query"].items():
        m = re.fullmatch(r"people\[(\d+)\]\[(id|userId|email)\]", key)
        if m:
            wanted.setdefault(int(m.group(1)), {})[m.group(2)] = value
    if not wanted:
        raise bad_request("Specify people, e.g. ?people[0][email]=ann@example.com.")
    users = [fake.public(p) for p in (fake.find(ids) for _, ids in sorted(wanted.items())) if p]
    return 200, {"users": users}


@Encharge.route("GET", r"/v1/people/all")
def all_people(fake, req):
    try:
        limit = int(float(req["query"].get("limit", 100)))
        offset = int(float(req["query"].get("offset", 0)))
    except ValueError:
        raise bad_request("limit and offset must be numbers.")
    if limit < 1 or offset < 0:
        raise bad_request("limit must be positive and offset not negative.")
    people = sorted(fake.state["people"].values(), key=lambda p: p["createdAt"] + p["id"])
    return 200, {"people": [fake.public(p) for p in people[offset:offset + limit]]}


@Encharge.route("POST", r"/v1/people/unsubscribe")
def unsubscribe(fake, req):
    person = fake.find(identifiers(dict(req["query"])))
    if person is None:
        raise HttpError(404, {"error": {"message": "Person not found."}})
    person["unsubscribed"] = True
    return 204, None


def tag_person(fake, req):
    body = identifiers(validated(req, "/tags"))
    person = fake.find(body)
    if person is None:
        raise HttpError(404, {"error": {"message": "Person not found."}})
    tags = split_tags(body["tag"])
    if not tags:
        raise bad_request("No tag given.")
    return person, tags


@Encharge.route("POST", r"/v1/tags")
def add_tag(fake, req):
    person, tags = tag_person(fake, req)
    fake.upsert({"id": person["id"], "email": person.get("email"), "tags": ",".join(tags)})
    return 201, None


@Encharge.route("DELETE", r"/v1/tags")
def remove_tag(fake, req):
    person, tags = tag_person(fake, req)
    person["tags"] = [t for t in person["tags"] if t not in tags]
    return 204, None


def tag_counts(fake):
    counts = {}
    for p in fake.state["people"].values():
        for t in p["tags"]:
            counts[t] = counts.get(t, 0) + 1
    return counts


@Encharge.route("GET", r"/v1/tags-management")
def account_tags(fake, req):
    counts = tag_counts(fake)
    tags = [{**meta, "count": counts.get(tag, 0)} for tag, meta in sorted(fake.state["tag_meta"].items())]
    return 200, {"tags": tags}


@Encharge.route("GET", r"/v1/tags-management/counts")
def account_tag_counts(fake, req):
    counts = tag_counts(fake)
    return 200, {"tagCounts": [{"tag": t, "count": counts.get(t, 0)} for t in sorted(fake.state["tag_meta"])]}


@Encharge.route("GET", r"/v1/fields")
def fields(fake, req):
    return 200, {"items": fake.state["fields"]}


if __name__ == "__main__":
    serve(Encharge)
