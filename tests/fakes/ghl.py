"""Fake GoHighLevel / LeadConnector API v2, as its published OpenAPI description has it.

Checks what the real API checks: a Bearer token of a sub-account (location),
the `Version: 2021-07-28` header (401 without it), that the token's location is
the one the request names (403), request bodies against the published OpenAPI
schemas (422 with a list of messages), unknown contacts/workflows/campaigns
(404). Contact writes stamp dateUpdated (milliseconds, as the API does);
POST /contacts/search filters, sorts and pages them. Keeps contacts with their tags, custom field values, notes, tasks and
workflow/campaign memberships; rate-limits per location (100 requests per 10 s
by default, answering 429 with the X-RateLimit-* headers and no Retry-After,
as GoHighLevel documents them) and puts those headers on every answer.

Seed or tune through POST /__fake/state, e.g.
  {"rate_limit": {"max": 3, "interval_ms": 2000}}
  {"custom_fields": [...], "workflows": [...], "campaigns": [...]}
"""
import copy
import datetime
import os
import random
import string
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakelib import Fake, HttpError, OpenApi, serve  # noqa: E402

VERSION = "2021-07-28"
TOKEN = "pit-7d1c9e4b-2f3a-4c5d-8e9f-0a1b2c3d4e5f"
LOCATION = "ve9EPM428h8vShlRW1KT"
OTHER_TOKEN = "pit-0b5e8c2a-9d4f-4e1a-b7c3-6f2d1e0a9b8c"
OTHER_LOCATION = "Xq3LmN8pRt5vWy7zAb2C"

CONTACTS = OpenApi("gohighlevel/apps/contacts.json")
LOCATIONS = OpenApi("gohighlevel/apps/locations.json")

DAILY_LIMIT = 200000


def new_id():
    return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(20))


def now_iso():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def trace():
    return "".join(random.choice("0123456789abcdef") for _ in range(32))


class GhlFake(Fake):
    """Fake LeadConnector API v2."""

    routes = []

    def __init__(self):
        super().__init__()
        self.windows = {}
        self.daily = {}
        self.window_lock = threading.Lock()

    def initial_state(self):
        return {
            # token → location it belongs to (Private Integration Tokens are per sub-account)
            "tokens": {TOKEN: LOCATION, OTHER_TOKEN: OTHER_LOCATION},
            "rate_limit": {"max": 100, "interval_ms": 10000},
            "allow_duplicates": False,
            "contacts": {},
            "location_tags": {
                LOCATION: [
                    {"id": "flGwEuzsfJOia1i1ikRN", "name": "buyer", "locationId": LOCATION},
                    {"id": "k2JtYb8HcW3nQ0pLxV1m", "name": "vip", "locationId": LOCATION},
                ]
            },
            "custom_fields": {
                LOCATION: [
                    {"id": "MgobCB14YMVKuE4Ka8p1", "name": "Company size", "fieldKey": "contact.company_size",
                     "dataType": "TEXT", "placeholder": "", "position": 0, "model": "contact", "locationId": LOCATION},
                    {"id": "3sv6UEo51C9Bmpo1cKTq", "name": "pincode", "fieldKey": "contact.pincode",
                     "dataType": "NUMERICAL", "placeholder": "Pin code", "position": 50, "model": "contact",
                     "locationId": LOCATION},
                    {"id": "Zt7pQ2xR9sLk4mNb6vC1", "name": "Interests", "fieldKey": "contact.interests",
                     "dataType": "CHECKBOX", "picklistOptions": ["coaching", "courses", "events"], "position": 100,
                     "model": "contact", "locationId": LOCATION},
                    {"id": "Hh5Gg4Ff3Ee2Dd1Cc0Bb", "name": "Deal stage", "fieldKey": "opportunity.deal_stage",
                     "dataType": "TEXT", "position": 0, "model": "opportunity", "locationId": LOCATION},
                ]
            },
            "workflows": {
                LOCATION: [
                    {"id": "78559bb3-b920-461e-b010-7b2a2816d2a9", "name": "Upsell onboarding", "status": "published",
                     "version": 2, "createdAt": "2026-01-01T10:00:00.000Z", "updatedAt": "2026-01-02T10:00:00.000Z",
                     "locationId": LOCATION},
                    {"id": "0f1e2d3c-4b5a-4697-8877-665544332211", "name": "Win-back", "status": "draft",
                     "version": 1, "createdAt": "2026-01-01T10:00:00.000Z", "updatedAt": "2026-01-01T10:00:00.000Z",
                     "locationId": LOCATION},
                ]
            },
            "campaigns": {
                LOCATION: [
                    {"id": "vCmP4Yk1tQeN9sR2wX7a", "name": "Nurture", "status": "published", "locationId": LOCATION},
                ]
            },
            "workflow_members": {},  # workflow id → [contact ids]
            "campaign_members": {},  # campaign id → [contact ids]
        }

    # --- auth, version, rate limit --------------------------------------------------------------

    def authenticate(self, req):
        headers = req["headers"]
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.state["tokens"]:
            raise HttpError(401, {"statusCode": 401, "message": "Invalid token: access token is invalid",
                                  "error": "Unauthorized"})
        if "version" not in headers:
            raise HttpError(401, {"statusCode": 401, "message": "version header was not found."})
        if headers["version"] != VERSION:
            raise HttpError(401, {"statusCode": 401, "message": "version header is invalid"})
        location = self.state["tokens"][auth[7:]]
        req["location"] = location
        req["rate_headers"] = self._rate(location)

    def _rate(self, location):
        limit = self.state.get("rate_limit", {})
        cap, interval = int(limit.get("max", 100)), int(limit.get("interval_ms", 10000))
        now = time.monotonic()
        with self.window_lock:
            start, count = self.windows.get(location, (now, 0))
            if (now - start) * 1000 >= interval:
                start, count = now, 0
            count += 1
            self.windows[location] = (start, count)
            self.daily[location] = self.daily.get(location, 0) + 1
            used_daily = self.daily[location]
        headers = {
            "X-RateLimit-Limit-Daily": DAILY_LIMIT,
            "X-RateLimit-Daily-Remaining": max(0, DAILY_LIMIT - used_daily),
            "X-RateLimit-Interval-Milliseconds": interval,
            "X-RateLimit-Max": cap,
            "X-RateLimit-Remaining": max(0, cap - count),
        }
        if count > cap:
            raise HttpError(429, {"statusCode": 429, "message": "Too many requests"}, headers)
        return headers

    def dispatch(self, req):
        try:
            result = super().dispatch(req)
        except HttpError as e:
            e.headers = {**req.get("rate_headers", {}), **e.headers}
            raise
        status, body = (result if isinstance(result, tuple) else (200, result))[:2]
        extra = result[2] if isinstance(result, tuple) and len(result) > 2 else {}
        return status, body, {**req.get("rate_headers", {}), **extra}


# --- helpers ----------------------------------------------------------------------------------


def validate(spec, method, template, req):
    body = req["body"] if req["body"] is not None else {}
    errors = spec.validate(method, template, body)
    if errors:
        raise HttpError(422, {"statusCode": 422, "message": errors, "error": "Unprocessable Entity"})
    return body


def own_location(req, location_id):
    if not location_id:
        raise HttpError(422, {"statusCode": 422, "message": ["locationId should not be empty"],
                              "error": "Unprocessable Entity"})
    if location_id != req["location"]:
        raise HttpError(403, {"statusCode": 403, "message": "The token does not have access to this location."})


def contact_of(fake, req, contact_id):
    c = fake.state["contacts"].get(contact_id)
    if c is None or c["locationId"] != req["location"]:
        raise HttpError(404, {"statusCode": 404, "message": "Contact not found", "error": "Not Found"})
    return c


def public(contact):
    out = {k: v for k, v in contact.items() if not k.startswith("_")}
    return copy.deepcopy(out)


def ensure_location_tags(fake, location, names):
    tags = fake.state["location_tags"].setdefault(location, [])
    known = {t["name"].lower() for t in tags}
    for n in names:
        if n.lower() not in known:
            tags.append({"id": new_id(), "name": n, "locationId": location})
            known.add(n.lower())


def apply_custom_fields(fake, req, contact, entries):
    fields = {f["id"]: f for f in fake.state["custom_fields"].get(req["location"], [])}
    values = {cf["id"]: cf for cf in contact.setdefault("customFields", [])}
    for entry in entries:
        field = fields.get(entry["id"])
        if field is None or field.get("model", "contact") != "contact":
            raise HttpError(422, {"statusCode": 422, "message": [f"customFields: unknown custom field id {entry['id']}"],
                                  "error": "Unprocessable Entity"})
        # The documented request key is field_value; `value` is seen from clients too.
        value = entry.get("field_value", entry.get("value"))
        if field["dataType"] in ("CHECKBOX", "MULTIPLE_OPTIONS") and not isinstance(value, list):
            raise HttpError(422, {"statusCode": 422, "message": [f"customFields: {field['fieldKey']} takes a list of options"],
                                  "error": "Unprocessable Entity"})
        # A number field takes a number (NumericField, MonetoryField), not text.
        if field["dataType"] in ("NUMERICAL", "MONETORY") and (isinstance(value, bool)
                                                             or not isinstance(value, (int, float))):
            raise HttpError(422, {"statusCode": 422, "message": [f"customFields: {field['fieldKey']} takes a number"],
                                  "error": "Unprocessable Entity"})
        values[field["id"]] = {"id": field["id"], "value": value}
    contact["customFields"] = list(values.values())


CONTACT_KEYS = ("firstName", "lastName", "name", "email", "phone", "address1", "city", "state", "postalCode",
                "website", "timezone", "dnd", "dndSettings", "source", "dateOfBirth", "country", "companyName",
                "assignedTo", "gender")


def find_duplicate(fake, location, email=None, phone=None):
    for c in fake.state["contacts"].values():
        if c["locationId"] != location:
            continue
        if email and (c.get("email") or "").lower() == email.lower():
            return c
    for c in fake.state["contacts"].values():
        if c["locationId"] == location and phone and c.get("phone") == phone:
            return c
    return None


# --- contacts ---------------------------------------------------------------------------------


@GhlFake.route("POST", r"/contacts/upsert")
def upsert(fake, req):
    body = validate(CONTACTS, "POST", "/contacts/upsert", req)
    own_location(req, body.get("locationId"))
    if not body.get("email") and not body.get("phone"):
        raise HttpError(400, {"statusCode": 400, "message": "Email or phone is required to upsert a contact"})
    existing = None
    if not (body.get("createNewIfDuplicateAllowed") and fake.state.get("allow_duplicates")):
        existing = find_duplicate(fake, req["location"], body.get("email"), body.get("phone"))
    created = existing is None
    stamp = now_iso()
    contact = existing or {"id": new_id(), "locationId": req["location"], "tags": [], "customFields": [],
                           "dateAdded": stamp, "_notes": [], "_tasks": []}
    if created:
        fake.state["contacts"][contact["id"]] = contact
    for key in CONTACT_KEYS:
        if key in body:
            contact[key] = body[key]
    if contact.get("email"):
        contact["emailLowerCase"] = contact["email"].lower()
    if "tags" in body:  # the documented behaviour: the list replaces every tag
        contact["tags"] = list(dict.fromkeys(body["tags"]))
        ensure_location_tags(fake, req["location"], contact["tags"])
    if body.get("customFields"):
        apply_custom_fields(fake, req, contact, body["customFields"])
    contact["dateUpdated"] = stamp
    return 200, {"new": created, "contact": public(contact), "traceId": trace()}


@GhlFake.route("GET", r"/contacts/search/duplicate")
def duplicate(fake, req):
    own_location(req, req["query"].get("locationId"))
    email, number = req["query"].get("email"), req["query"].get("number")
    if not email and not number:
        raise HttpError(422, {"statusCode": 422, "message": ["email or number must be provided"],
                              "error": "Unprocessable Entity"})
    found = find_duplicate(fake, req["location"], email, number)
    return {"contact": public(found) if found else None, "traceId": trace()}


@GhlFake.route("GET", r"/contacts/")
def list_contacts(fake, req):
    own_location(req, req["query"].get("locationId"))
    try:
        limit = int(req["query"].get("limit", "20"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise HttpError(422, {"statusCode": 422, "message": ["limit must not be greater than 100"],
                              "error": "Unprocessable Entity"})
    mine = sorted((c for c in fake.state["contacts"].values() if c["locationId"] == req["location"]),
                  key=lambda c: (c["dateAdded"], c["id"]))
    total = len(mine)
    after = req["query"].get("startAfterId")
    if after:
        ids = [c["id"] for c in mine]
        mine = mine[ids.index(after) + 1:] if after in ids else []
    page = mine[:limit]
    meta = {"total": total, "startAfterId": page[-1]["id"] if page else None,
            "startAfter": int(time.time() * 1000) if page else None}
    return {"contacts": [public(c) for c in page], "meta": meta}


def unprocessable(*messages):
    return HttpError(422, {"statusCode": 422, "message": list(messages), "error": "Unprocessable Entity"})


SEARCH_TIME_FIELDS = ("dateAdded", "dateUpdated")
SEARCH_RANGE_BOUNDS = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
                       "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}
SEARCH_EQ_FIELDS = ("email", "id", "phone")


def search_filter(entry):
    """One entry of `filters`: {"field", "operator", "value"} → a predicate on a contact."""
    if not isinstance(entry, dict) or not {"field", "operator", "value"} <= entry.keys():
        raise unprocessable("filters: each filter needs field, operator and value")
    field, op, value = entry["field"], entry["operator"], entry["value"]
    if field in SEARCH_TIME_FIELDS and op == "range":
        if not isinstance(value, dict) or not value or not value.keys() <= SEARCH_RANGE_BOUNDS.keys() \
                or not all(isinstance(v, str) for v in value.values()):
            raise unprocessable(f"filters: {field} range takes {{gt, gte, lt, lte}} with ISO 8601 times")
        return lambda c: all(SEARCH_RANGE_BOUNDS[k](c.get(field) or "", v) for k, v in value.items())
    if field in SEARCH_EQ_FIELDS and op == "eq":
        if not isinstance(value, str):
            raise unprocessable(f"filters: {field} eq takes a string")
        return lambda c: (c.get(field) or "").lower() == value.lower()
    raise unprocessable(f"filters: operator {op} is not supported on field {field}")


@GhlFake.route("POST", r"/contacts/search")
def search_contacts(fake, req):
    """Search (#7): the spec leaves the body undescribed; this is the observed shape
    {"locationId", "page", "pageLimit", "filters": [...], "sort": [{"field", "direction"}]}."""
    body = validate(CONTACTS, "POST", "/contacts/search", req)
    own_location(req, body.get("locationId"))
    page, limit = body.get("page", 1), body.get("pageLimit", 20)
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise unprocessable("page must be a positive integer")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
        raise unprocessable("pageLimit must be an integer from 1 to 100")
    filters = body.get("filters", [])
    if not isinstance(filters, list):
        raise unprocessable("filters must be a list")
    predicates = [search_filter(f) for f in filters]
    mine = [c for c in fake.state["contacts"].values()
            if c["locationId"] == req["location"] and all(p(c) for p in predicates)]
    sort = body.get("sort", [{"field": "dateAdded", "direction": "desc"}])
    if not isinstance(sort, list) or len(sort) != 1 or not isinstance(sort[0], dict) \
            or sort[0].get("field") not in SEARCH_TIME_FIELDS or sort[0].get("direction") not in ("asc", "desc"):
        raise unprocessable("sort takes one {field: dateAdded|dateUpdated, direction: asc|desc}")
    key = sort[0]["field"]
    mine.sort(key=lambda c: (c.get(key) or "", c["id"]), reverse=sort[0]["direction"] == "desc")
    chunk = mine[(page - 1) * limit: page * limit]
    return {"contacts": [public(c) for c in chunk], "total": len(mine), "traceId": trace()}


@GhlFake.route("GET", r"/contacts/([^/]+)")
def get_contact(fake, req, contact_id):
    return {"contact": public(contact_of(fake, req, contact_id))}


@GhlFake.route("PUT", r"/contacts/([^/]+)")
def update_contact(fake, req, contact_id):
    contact = contact_of(fake, req, contact_id)
    body = validate(CONTACTS, "PUT", "/contacts/{contactId}", req)
    for key in CONTACT_KEYS:
        if key in body:
            contact[key] = body[key]
    if "tags" in body:
        contact["tags"] = list(dict.fromkeys(body["tags"]))
    if body.get("customFields"):
        apply_custom_fields(fake, req, contact, body["customFields"])
    contact["dateUpdated"] = now_iso()
    return {"succeded": True, "contact": public(contact)}


@GhlFake.route("POST", r"/contacts/([^/]+)/tags")
def add_tags(fake, req, contact_id):
    contact = contact_of(fake, req, contact_id)
    body = validate(CONTACTS, "POST", "/contacts/{contactId}/tags", req)
    have = {t.lower() for t in contact["tags"]}
    for t in body["tags"]:
        if t.lower() not in have:
            contact["tags"].append(t)
            have.add(t.lower())
    ensure_location_tags(fake, req["location"], body["tags"])
    contact["dateUpdated"] = now_iso()
    return 201, {"tags": list(contact["tags"])}


@GhlFake.route("DELETE", r"/contacts/([^/]+)/tags")
def remove_tags(fake, req, contact_id):
    contact = contact_of(fake, req, contact_id)
    body = validate(CONTACTS, "DELETE", "/contacts/{contactId}/tags", req)
    gone = {t.lower() for t in body["tags"]}
    contact["tags"] = [t for t in contact["tags"] if t.lower() not in gone]
    contact["dateUpdated"] = now_iso()
    return 200, {"tags": list(contact["tags"])}


@GhlFake.route("GET", r"/contacts/([^/]+)/notes")
def list_notes(fake, req, contact_id):
    return {"notes": copy.deepcopy(contact_of(fake, req, contact_id)["_notes"])}


@GhlFake.route("POST", r"/contacts/([^/]+)/notes")
def add_note(fake, req, contact_id):
    contact = contact_of(fake, req, contact_id)
    body = validate(CONTACTS, "POST", "/contacts/{contactId}/notes", req)
    note = {"id": new_id(), "body": body["body"], "userId": body.get("userId", ""), "dateAdded": now_iso(),
            "contactId": contact_id, "title": body.get("title", ""), "color": body.get("color", ""),
            "pinned": body.get("pinned", False)}
    contact["_notes"].append(note)
    return 201, {"note": note}


@GhlFake.route("GET", r"/contacts/([^/]+)/tasks")
def list_tasks(fake, req, contact_id):
    return {"tasks": copy.deepcopy(contact_of(fake, req, contact_id)["_tasks"])}


@GhlFake.route("POST", r"/contacts/([^/]+)/tasks")
def add_task(fake, req, contact_id):
    contact = contact_of(fake, req, contact_id)
    body = validate(CONTACTS, "POST", "/contacts/{contactId}/tasks", req)
    try:
        due = datetime.datetime.fromisoformat(body["dueDate"].replace("Z", "+00:00"))
    except ValueError:
        raise HttpError(422, {"statusCode": 422, "message": ["dueDate must be a valid ISO 8601 date string"],
                              "error": "Unprocessable Entity"})
    if due.tzinfo is None:
        due = due.replace(tzinfo=datetime.timezone.utc)
    task = {"id": new_id(), "title": body["title"], "body": body.get("body", ""),
            "assignedTo": body.get("assignedTo", ""),
            "dueDate": due.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "completed": body["completed"], "contactId": contact_id}
    contact["_tasks"].append(task)
    return 201, {"task": task}


def workflow_of(fake, req, workflow_id):
    for w in fake.state["workflows"].get(req["location"], []):
        if w["id"] == workflow_id:
            return w
    raise HttpError(404, {"statusCode": 404, "message": "Workflow not found", "error": "Not Found"})


def campaign_of(fake, req, campaign_id):
    for c in fake.state["campaigns"].get(req["location"], []):
        if c["id"] == campaign_id:
            return c
    raise HttpError(404, {"statusCode": 404, "message": "Campaign not found", "error": "Not Found"})


def join(fake, members_key, group_id, contact_id):
    members = fake.state[members_key].setdefault(group_id, [])
    if contact_id not in members:
        members.append(contact_id)


def leave(fake, members_key, group_id, contact_id):
    members = fake.state[members_key].setdefault(group_id, [])
    if contact_id in members:
        members.remove(contact_id)


@GhlFake.route("POST", r"/contacts/([^/]+)/workflow/([^/]+)")
def add_to_workflow(fake, req, contact_id, workflow_id):
    contact_of(fake, req, contact_id)
    workflow_of(fake, req, workflow_id)
    validate(CONTACTS, "POST", "/contacts/{contactId}/workflow/{workflowId}", req)
    join(fake, "workflow_members", workflow_id, contact_id)
    return 200, {"succeded": True}


@GhlFake.route("DELETE", r"/contacts/([^/]+)/workflow/([^/]+)")
def remove_from_workflow(fake, req, contact_id, workflow_id):
    contact_of(fake, req, contact_id)
    workflow_of(fake, req, workflow_id)
    validate(CONTACTS, "DELETE", "/contacts/{contactId}/workflow/{workflowId}", req)
    leave(fake, "workflow_members", workflow_id, contact_id)
    return 200, {"succeded": True}


@GhlFake.route("DELETE", r"/contacts/([^/]+)/campaigns/removeAll")
def remove_from_all_campaigns(fake, req, contact_id):
    contact_of(fake, req, contact_id)
    for campaign_id in list(fake.state["campaign_members"]):
        leave(fake, "campaign_members", campaign_id, contact_id)
    return 200, {"succeded": True}


@GhlFake.route("POST", r"/contacts/([^/]+)/campaigns/([^/]+)")
def add_to_campaign(fake, req, contact_id, campaign_id):
    contact_of(fake, req, contact_id)
    campaign_of(fake, req, campaign_id)
    validate(CONTACTS, "POST", "/contacts/{contactId}/campaigns/{campaignId}", req)
    join(fake, "campaign_members", campaign_id, contact_id)
    return 201, {"succeded": True}


@GhlFake.route("DELETE", r"/contacts/([^/]+)/campaigns/([^/]+)")
def remove_from_campaign(fake, req, contact_id, campaign_id):
    contact_of(fake, req, contact_id)
    campaign_of(fake, req, campaign_id)
    leave(fake, "campaign_members", campaign_id, contact_id)
    return 200, {"succeded": True}


# --- location resources -----------------------------------------------------------------------


@GhlFake.route("GET", r"/locations/([^/]+)/tags")
def location_tags(fake, req, location_id):
    own_location(req, location_id)
    return {"tags": copy.deepcopy(fake.state["location_tags"].get(location_id, []))}


@GhlFake.route("POST", r"/locations/([^/]+)/tags")
def create_location_tag(fake, req, location_id):
    own_location(req, location_id)
    body = validate(LOCATIONS, "POST", "/locations/{locationId}/tags", req)
    if not body.get("name"):
        raise HttpError(422, {"statusCode": 422, "message": ["name should not be empty"], "error": "Unprocessable Entity"})
    ensure_location_tags(fake, location_id, [body["name"]])
    tag = next(t for t in fake.state["location_tags"][location_id] if t["name"].lower() == body["name"].lower())
    return 200, {"tag": tag}


@GhlFake.route("GET", r"/locations/([^/]+)/customFields")
def custom_fields(fake, req, location_id):
    own_location(req, location_id)
    model = req["query"].get("model", "all")
    if model not in ("contact", "opportunity", "all"):
        raise HttpError(422, {"statusCode": 422, "message": ["model must be one of contact, opportunity, all"],
                              "error": "Unprocessable Entity"})
    fields = fake.state["custom_fields"].get(location_id, [])
    return {"customFields": [copy.deepcopy(f) for f in fields if model == "all" or f.get("model") == model]}


@GhlFake.route("GET", r"/workflows/")
def workflows(fake, req):
    own_location(req, req["query"].get("locationId"))
    return {"workflows": copy.deepcopy(fake.state["workflows"].get(req["location"], []))}


@GhlFake.route("GET", r"/campaigns/")
def campaigns(fake, req):
    own_location(req, req["query"].get("locationId"))
    status = req["query"].get("status")
    items = fake.state["campaigns"].get(req["location"], [])
    return {"campaigns": [copy.deepcopy(c) for c in items if not status or c.get("status") == status]}


if __name__ == "__main__":
    serve(GhlFake)
