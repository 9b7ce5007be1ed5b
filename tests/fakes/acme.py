"""Fake Acme API: the made-up membership service of the SDK's example connector (sdk/examples/acme).

Acme takes a Bearer API key (401 without it), pages its groups (GET /groups?page=N, two a page, with
has_more), adds members to a group (POST /groups/<id>/members with {"email", "fields"} and an
Idempotency-Key: 201, or 200 with the first answer for a key seen before; 404 for an unknown group, 422
for a body without an email) and keeps a feed of member changes (GET /members/changes?since=<next>, all
changes after that position, from the start without one, with the position to ask from next).

Seed through POST /__fake/state, e.g. {"changes": [{"id": "chg_1", "changed_at": "...", "member": {...}}]}.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakelib import Fake, HttpError, serve  # noqa: E402

API_KEY = "acme_live_9f2c41d7e8b3"


class AcmeFake(Fake):
    """Fake Acme API."""

    routes = []

    def initial_state(self):
        return {
            "groups": [
                {"id": "grp_1", "name": "Readers"},
                {"id": "grp_2", "name": "Members"},
                {"id": "grp_3", "name": "Coaching"},
            ],
            "members": {},  # group id -> members added
            "idempotency": {},  # key -> the first answer
            "changes": [],
        }

    def authenticate(self, req):
        if req["headers"].get("authorization") != "Bearer " + API_KEY:
            raise HttpError(401, {"error": "invalid API key"})


@AcmeFake.route("GET", "/groups")
def list_groups(fake, req):
    page = int(req["query"].get("page", "1"))
    groups = fake.state["groups"]
    return {"groups": groups[(page - 1) * 2 : page * 2], "has_more": page * 2 < len(groups)}


@AcmeFake.route("POST", "/groups/([^/]+)/members")
def add_member(fake, req, group):
    key = req["headers"].get("idempotency-key")
    if key in fake.state["idempotency"]:
        return 200, fake.state["idempotency"][key]
    if group not in {g["id"] for g in fake.state["groups"]}:
        raise HttpError(404, {"error": f"no group {group}"})
    body = req["body"]
    if not isinstance(body, dict) or not isinstance(body.get("email"), str) or not isinstance(body.get("fields"), dict):
        raise HttpError(422, {"error": "a member has an email and an object of fields"})
    members = fake.state["members"].setdefault(group, [])
    members.append(body)
    answer = {"id": f"mem_{sum(len(m) for m in fake.state['members'].values())}", "group": group, **body}
    if key:
        fake.state["idempotency"][key] = answer
    return 201, answer


@AcmeFake.route("GET", "/members/changes")
def member_changes(fake, req):
    changes = fake.state["changes"]
    start = int(req["query"].get("since", "0"))
    return {"changes": changes[start:], "next": str(len(changes))}


if __name__ == "__main__":
    serve(AcmeFake)
