"""Fake Thinkific Admin API v1, as its published OpenAPI description has it.

Serves /api/public/v1/... with both auth modes (X-Auth-API-Key + X-Auth-Subdomain,
or an OAuth Bearer token), page/limit paging with the exact meta.pagination
object, request bodies validated against Thinkific's published OpenAPI document,
422s in both of Thinkific's error shapes, 204s with no body from the PUT
endpoints, and 120 requests a minute per site with 429 + RateLimit-Reset.
A bundle's enrollment list and its PUT cover every enrollment of the user in
the bundle's courses, one bought on its own included.

Seed (replace parts through POST /__fake/state):
  api_keys                          {subdomain: key}
  access_tokens                     [token, ...]
  courses                           260 courses (ids 1..260; 42 is "Intro to Widgets")
  products                          one per course, plus bundles 7 and 8
  bundles                           {"7": {...course_ids: [42, 43]}, "8": {...}}
  custom_profile_field_definitions  Company (text), Country (country), Job title (text)
  users, enrollments                users: bob@example.com; enrollments: none
  bundle_async                      true → bundle enrolment answers 202 instead of 201
"""
import datetime
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakelib import Fake, HttpError, OpenApi, RateLimiter, serve  # noqa: E402

P = "/api/public/v1"
SPEC = OpenApi("thinkific/thinkific-admin-api-openapi.yml")
NOT_FOUND = {"error": "Record not found."}


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def stamp(t=None):
    t = t or now()
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_time(value):
    """ISO 8601 date-time → aware datetime, or None when it is not one."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        t = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)


def seed_courses():
    courses = []
    for i in range(1, 261):
        courses.append({
            "id": i, "name": "Intro to Widgets" if i == 42 else f"Course {i}", "slug": f"course-{i}",
            "subtitle": None, "product_id": 1000 + i, "description": "", "course_card_text": None,
            "intro_video_youtube": None, "contact_information": None, "keywords": None, "duration": None,
            "banner_image_url": None, "course_card_image_url": None, "intro_video_wistia_identifier": None,
            "administrator_user_ids": [], "chapter_ids": [i * 10], "reviews_enabled": False,
            "user_id": 1, "instructor_id": 1,
        })
    return courses


def product(pid, ptype, ref_id, name):
    return {"id": pid, "created_at": "2025-06-01T12:00:00.000Z", "productable_id": ref_id, "productable_type": ptype,
            "price": 49.0, "position": pid, "status": "published", "name": name, "private": False, "hidden": False,
            "subscription": False, "days_until_expiry": None, "has_certificate": False, "keywords": None,
            "seo_title": None, "seo_description": None, "collection_ids": [], "related_product_ids": [],
            "description": None, "card_image_url": None, "slug": name.lower().replace(" ", "-"),
            "product_prices": []}


class Thinkific(Fake):
    """Fake Thinkific Admin API v1."""

    routes = []

    def __init__(self):
        super().__init__()
        self.limiter = RateLimiter(120, 60)

    def initial_state(self):
        courses = seed_courses()
        products = [product(1000 + c["id"], "Course", c["id"], c["name"]) for c in courses]
        products.insert(5, product(2007, "Bundle", 7, "Widget Mastery Bundle"))
        products.append(product(2008, "Bundle", 8, "Gadget Bundle"))
        return {
            "api_keys": {"acme": "tk-e2e-api-key"},
            "access_tokens": ["tk-e2e-oauth-token"],
            "courses": courses,
            "products": products,
            "bundles": {
                "7": {"id": 7, "name": "Widget Mastery Bundle", "description": "", "tagline": None,
                      "banner_image_url": None, "course_ids": [42, 43], "bundle_card_image_url": None},
                "8": {"id": 8, "name": "Gadget Bundle", "description": "", "tagline": None,
                      "banner_image_url": None, "course_ids": [44], "bundle_card_image_url": None},
            },
            "custom_profile_field_definitions": [
                {"id": 1, "label": "Company", "field_type": "text", "required": False},
                {"id": 2, "label": "Country", "field_type": "country", "required": False},
                {"id": 3, "label": "Job title", "field_type": "text", "required": False},
            ],
            "users": [self._user_record(1, "Bob", "Smith", "bob@example.com", [])],
            "enrollments": [],
            "welcome_emails": [],
            "bundle_async": False,
            "next_id": 100,
        }

    # -- plumbing -----------------------------------------------------------

    def authenticate(self, req):
        if not req["path"].startswith(P + "/"):
            raise HttpError(404, {"error": "Not Found"})
        headers = req["headers"]
        auth = headers.get("authorization", "")
        if auth:
            token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
            if token not in self.state["access_tokens"]:
                raise HttpError(401, {"error": "Authentication Error"})
            site = "oauth:" + token
        else:
            subdomain, key = headers.get("x-auth-subdomain"), headers.get("x-auth-api-key")
            if not subdomain or not key or self.state["api_keys"].get(subdomain) != key:
                raise HttpError(401, {"error": "Authentication Error"})
            site = subdomain
        allowed, _remaining, reset = self.limiter.check(site)
        if not allowed:
            # The docs disagree on the unit; this fake sends milliseconds until the reset.
            raise HttpError(429, {"error": "Rate Limit Exceeded"},
                            {"RateLimit-Reset": str(max(1, int(reset * 1000))), "RateLimit-Limit": "120",
                             "RateLimit-Remaining": "0"})
        if req["method"] in ("POST", "PUT"):
            if not headers.get("content-type", "").startswith("application/json"):
                raise HttpError(400, {"error": "Content-Type must be application/json"})
            if not isinstance(req["body"], dict):
                raise HttpError(400, {"error": "the request body must be a JSON object"})

    def new_id(self):
        self.state["next_id"] += 1
        return self.state["next_id"]

    @staticmethod
    def _user_record(uid, first, last, email, fields):
        return {"id": uid, "created_at": stamp(), "first_name": first, "last_name": last,
                "full_name": f"{first} {last}", "company": None, "email": email, "roles": [], "avatar_url": None,
                "bio": None, "headline": None, "affiliate_code": None, "external_source": None,
                "affiliate_commission": None, "affiliate_commission_type": None, "affiliate_payout_email": None,
                "administered_course_ids": [], "custom_profile_fields": fields}

    def find(self, collection, rid):
        for item in self.state[collection]:
            if str(item["id"]) == str(rid):
                return item
        return None


def validate(req, template):
    body = req["body"]
    errors = SPEC.validate(req["method"], template, body)
    if errors:
        out = {}
        for e in errors:
            where, message = (part.strip() for part in e.split(":", 1))
            missing = re.match(r"'([^']+)' is a required property", message)
            if missing:  # Thinkific reports a missing attribute as blank
                where, message = missing.group(1), "can't be blank"
            out.setdefault(where, []).append(message)
        raise HttpError(422, {"errors": out})
    bad = {k: ["is not a valid date/time"] for k in ("activated_at", "expiry_date")
           if body.get(k) is not None and parse_time(body[k]) is None}
    if bad:
        raise HttpError(422, {"errors": bad})


def int_query(req, name, default):
    value = req["query"].get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise HttpError(400, {"error": f"{name} must be an integer"})


def paged(req, items):
    page = max(1, int_query(req, "page", 1))
    limit = min(250, max(1, int_query(req, "limit", 25)))
    total = len(items)
    total_pages = max(1, math.ceil(total / limit))
    start = (page - 1) * limit
    chunk = items[start:start + limit]
    info = f"{start + 1}-{start + len(chunk)} of {total}" if chunk else f"0 of {total}"
    return {"items": chunk, "meta": {"pagination": {
        "current_page": page, "next_page": page + 1 if page < total_pages else None,
        "prev_page": page - 1 if page > 1 else None, "total_pages": total_pages, "total_items": total,
        "entries_info": info}}}


def truthy(value):
    return str(value).lower() in ("true", "1")


# -- users ------------------------------------------------------------------

@Thinkific.route("GET", P + r"/users")
def list_users(fake, req):
    users = fake.state["users"]
    email = req["query"].get("query[email]")
    if email is not None:
        # Match semantics are not documented; a search that also finds
        # partial matches keeps clients honest about comparing themselves.
        users = [u for u in users if email.lower() in u["email"].lower()]
    return paged(req, users)


def profile_fields(fake, requested, current=()):
    defs = {d["id"]: d for d in fake.state["custom_profile_field_definitions"]}
    out = {f["custom_profile_field_definition_id"]: f for f in current}
    for f in requested or []:
        did = f["custom_profile_field_definition_id"]
        if did not in defs:
            raise HttpError(422, {"errors": {"custom_profile_fields": [f"definition {did} does not exist"]}})
        out[did] = {"id": fake.new_id(), "value": f.get("value"), "label": defs[did]["label"],
                    "custom_profile_field_definition_id": did}
    return list(out.values())


@Thinkific.route("POST", P + r"/users")
def create_user(fake, req):
    validate(req, "/users")
    body = req["body"]
    blank = {k: ["can't be blank"] for k in ("first_name", "last_name", "email") if not str(body.get(k, "")).strip()}
    if blank:
        raise HttpError(422, {"errors": blank})
    if "@" not in body["email"]:
        raise HttpError(422, {"errors": {"email": ["is invalid"]}})
    if any(u["email"].lower() == body["email"].lower() for u in fake.state["users"]):
        raise HttpError(422, {"errors": {"email": ["has already been taken"]}})
    fields = profile_fields(fake, body.get("custom_profile_fields"))
    if not body.get("skip_custom_fields_validation"):
        given = {f["custom_profile_field_definition_id"] for f in fields if f.get("value")}
        missing = [d["label"] for d in fake.state["custom_profile_field_definitions"]
                   if d["required"] and d["id"] not in given]
        if missing:
            raise HttpError(422, {"errors": {"custom_profile_fields": [f"{m} can't be blank" for m in missing]}})
    user = fake._user_record(fake.new_id(), body["first_name"], body["last_name"], body["email"], fields)
    for key in ("company", "bio", "headline", "affiliate_code", "external_source"):
        if key in body:
            user[key] = body[key]
    fake.state["users"].append(user)
    if body.get("send_welcome_email"):
        fake.state["welcome_emails"].append(body["email"])
    return 201, user


@Thinkific.route("GET", P + r"/users/(\d+)")
def get_user(fake, req, uid):
    user = fake.find("users", uid)
    if not user:
        raise HttpError(404, NOT_FOUND)
    return user


@Thinkific.route("PUT", P + r"/users/(\d+)")
def update_user(fake, req, uid):
    user = fake.find("users", uid)
    if not user:
        raise HttpError(404, NOT_FOUND)
    validate(req, "/users/{id}")
    body = req["body"]
    if "custom_profile_fields" in body:
        user["custom_profile_fields"] = profile_fields(fake, body["custom_profile_fields"], user["custom_profile_fields"])
    for key in ("first_name", "last_name", "email", "company", "bio", "headline", "external_source"):
        if key in body:
            user[key] = body[key]
    user["full_name"] = f"{user['first_name']} {user['last_name']}"
    return 204, None


@Thinkific.route("DELETE", P + r"/users/(\d+)")
def delete_user(fake, req, uid):
    user = fake.find("users", uid)
    if not user:
        raise HttpError(404, NOT_FOUND)
    fake.state["users"].remove(user)
    return 204, None


# -- courses, products, bundles, custom profile fields ------------------------

@Thinkific.route("GET", P + r"/courses")
def list_courses(fake, req):
    return paged(req, fake.state["courses"])


@Thinkific.route("GET", P + r"/courses/(\d+)")
def get_course(fake, req, cid):
    return fake.find("courses", cid) or (404, NOT_FOUND)


@Thinkific.route("GET", P + r"/products")
def list_products(fake, req):
    return paged(req, fake.state["products"])


@Thinkific.route("GET", P + r"/products/(\d+)")
def get_product(fake, req, pid):
    return fake.find("products", pid) or (404, NOT_FOUND)


def bundle_of(fake, bid):
    bundle = fake.state["bundles"].get(str(int(bid)))
    if not bundle:
        raise HttpError(404, NOT_FOUND)
    return bundle


@Thinkific.route("GET", P + r"/bundles/(\d+)")
def get_bundle(fake, req, bid):
    return bundle_of(fake, bid)


@Thinkific.route("GET", P + r"/bundles/(\d+)/courses")
def bundle_courses(fake, req, bid):
    ids = bundle_of(fake, bid)["course_ids"]
    return paged(req, [c for c in fake.state["courses"] if c["id"] in ids])


@Thinkific.route("GET", P + r"/custom_profile_field_definitions")
def list_definitions(fake, req):
    return paged(req, fake.state["custom_profile_field_definitions"])


# -- enrollments ------------------------------------------------------------

def view(enrollment):
    """The enrollment as the API shows it: `expired` and `is_free_trial` derive from the dates."""
    out = dict(enrollment)
    expiry = parse_time(enrollment["expiry_date"]) if enrollment["expiry_date"] else None
    out["expired"] = bool(expiry and expiry <= now())
    out["is_free_trial"] = enrollment["activated_at"] is None
    return out


def enrol(fake, user, course, activated_at, expiry_date):
    record = {"id": fake.new_id(), "user_email": user["email"], "user_name": user["full_name"],
              "user_id": user["id"], "course_name": course["name"], "course_id": course["id"],
              "percentage_completed": 0.0, "expired": False, "is_free_trial": False, "completed": False,
              "started_at": stamp(), "activated_at": activated_at, "completed_at": None, "updated_at": stamp(),
              "expiry_date": expiry_date}
    fake.state["enrollments"].append(record)
    return record


def filter_enrollments(req, items):
    q = req["query"]
    out = [view(e) for e in items]
    if "query[user_id]" in q:
        out = [e for e in out if str(e["user_id"]) == q["query[user_id]"]]
    if "query[course_id]" in q:
        out = [e for e in out if str(e["course_id"]) == q["query[course_id]"]]
    if "query[email]" in q:
        out = [e for e in out if e["user_email"].lower() == q["query[email]"].lower()]
    if "query[expired]" in q:
        out = [e for e in out if e["expired"] == truthy(q["query[expired]"])]
    if "query[free_trial]" in q and truthy(q["query[free_trial]"]):
        out = [e for e in out if e["is_free_trial"]]
    if "query[full]" in q and truthy(q["query[full]"]):
        out = [e for e in out if not e["is_free_trial"]]
    if "query[completed]" in q:
        out = [e for e in out if e["completed"] == truthy(q["query[completed]"])]
    return out


@Thinkific.route("GET", P + r"/enrollments")
def list_enrollments(fake, req):
    return paged(req, filter_enrollments(req, fake.state["enrollments"]))


@Thinkific.route("POST", P + r"/enrollments")
def create_enrollment(fake, req):
    validate(req, "/enrollments")
    body = req["body"]
    course = fake.find("courses", body.get("course_id")) if body.get("course_id") is not None else None
    user = fake.find("users", body.get("user_id")) if body.get("user_id") is not None else None
    errors = ([] if course else ["Course could not be found."]) + ([] if user else ["User could not be found."])
    if errors:
        raise HttpError(422, {"errors": errors})
    # Unconfirmed: a second enrollment of the same user in the same course is refused.
    if any(e["user_id"] == user["id"] and e["course_id"] == course["id"] for e in fake.state["enrollments"]):
        raise HttpError(422, {"errors": ["User is already enrolled in this course."]})
    record = enrol(fake, user, course, body.get("activated_at"), body.get("expiry_date"))
    return 201, view(record)


@Thinkific.route("GET", P + r"/enrollments/(\d+)")
def get_enrollment(fake, req, eid):
    record = fake.find("enrollments", eid)
    return view(record) if record else (404, NOT_FOUND)


def update_dates(record, body):
    for key in ("activated_at", "expiry_date"):
        if key in body:
            record[key] = body[key]
    record["updated_at"] = stamp()


@Thinkific.route("PUT", P + r"/enrollments/(\d+)")
def update_enrollment(fake, req, eid):
    record = fake.find("enrollments", eid)
    if not record:
        raise HttpError(404, NOT_FOUND)
    validate(req, "/enrollments/{id}")
    update_dates(record, req["body"])
    return 204, None


# -- bundle enrollments -----------------------------------------------------

def in_bundle(fake, bundle, user=None):
    """The enrollments in the bundle's courses, however they were made: the docs
    do not say whether the list holds those of a course bought on its own, and
    the broader reading keeps clients from taking one course for the bundle."""
    return [e for e in fake.state["enrollments"]
            if e["course_id"] in bundle["course_ids"] and (user is None or e["user_id"] == user["id"])]


@Thinkific.route("GET", P + r"/bundles/(\d+)/enrollments")
def list_bundle_enrollments(fake, req, bid):
    return paged(req, filter_enrollments(req, in_bundle(fake, bundle_of(fake, bid))))


def bundle_user(fake, req):
    body = req["body"]
    user = fake.find("users", body["user_id"])
    if not user:
        raise HttpError(422, {"errors": {"user_id": ["is invalid"]}})
    return user


@Thinkific.route("POST", P + r"/bundles/(\d+)/enrollments")
def create_bundle_enrollment(fake, req, bid):
    bundle = bundle_of(fake, bid)
    validate(req, "/bundles/{id}/enrollments")
    user = bundle_user(fake, req)
    body = req["body"]
    for cid in bundle["course_ids"]:
        existing = [e for e in fake.state["enrollments"] if e["user_id"] == user["id"] and e["course_id"] == cid]
        if existing:
            update_dates(existing[0], body)
        else:
            enrol(fake, user, fake.find("courses", cid), body.get("activated_at"), body.get("expiry_date"))
    return (202 if fake.state["bundle_async"] else 201), None


@Thinkific.route("PUT", P + r"/bundles/(\d+)/enrollments")
def update_bundle_enrollment(fake, req, bid):
    bundle = bundle_of(fake, bid)
    validate(req, "/bundles/{id}/enrollments")
    user = bundle_user(fake, req)
    records = in_bundle(fake, bundle, user)  # the update applies to every course of the bundle
    if not records:
        raise HttpError(422, {"errors": ["Enrollment could not be found."]})
    for record in records:
        update_dates(record, req["body"])
    return 204, None


if __name__ == "__main__":
    serve(Thinkific)
