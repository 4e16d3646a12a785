#!/usr/bin/env python3
"""Checks a token from a Twilio token-endpoint recipe against twilio-python's AccessToken built
from the same inputs: the same header, iss, sub and grants, and exp - nbf equal to the TTL.

    check_twilio_token.py ANSWER_JSON SECRET KEY_SID ACCOUNT_SID IDENTITY GRANTS_JSON TTL
"""
import calendar
import json
import sys
import time

import jwt
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import PlaybackGrant, SyncGrant, TaskRouterGrant, VoiceGrant

answer, secret, key_sid, account_sid, identity, grants, ttl = sys.argv[1:8]
answer, grants, ttl = json.loads(answer), json.loads(grants), int(ttl)

theirs = AccessToken(account_sid, key_sid, secret, identity=identity, ttl=ttl)
for name, fields in grants.items():
    if name == "data_sync":
        theirs.add_grant(SyncGrant(**fields))
    elif name == "task_router":
        theirs.add_grant(TaskRouterGrant(**fields))
    elif name == "voice":
        theirs.add_grant(VoiceGrant(incoming_allow=fields.get("incoming", {}).get("allow"),
                                    outgoing_application_sid=fields.get("outgoing", {}).get("application_sid"),
                                    outgoing_application_params=fields.get("outgoing", {}).get("params"),
                                    push_credential_sid=fields.get("push_credential_sid"), endpoint_id=fields.get("endpoint_id")))
    elif name == "player":
        theirs.add_grant(PlaybackGrant(grant=fields))
    else:
        sys.exit(f"check_twilio_token.py does not map grant {name}")
theirs = theirs.to_jwt()

ours = answer["token"]
our_claims = jwt.decode(ours, secret, algorithms=["HS256"])
their_claims = jwt.decode(theirs, secret, algorithms=["HS256"])
problems = []
if jwt.get_unverified_header(ours) != jwt.get_unverified_header(theirs):
    problems.append(f"header: ours {jwt.get_unverified_header(ours)} theirs {jwt.get_unverified_header(theirs)}")
for claim in ("iss", "sub", "grants"):
    if our_claims[claim] != their_claims[claim]:
        problems.append(f"{claim}: ours {our_claims[claim]} theirs {their_claims[claim]}")
if our_claims["exp"] - our_claims["nbf"] != ttl:
    problems.append(f"exp - nbf is {our_claims['exp'] - our_claims['nbf']}, not {ttl}")
expires_at = time.strptime(answer["expires_at"], "%Y-%m-%dT%H:%M:%SZ")
if abs(calendar.timegm(expires_at) - our_claims["exp"]) > 1:
    problems.append(f"expires_at {answer['expires_at']} is not the token's exp {our_claims['exp']}")
print("; ".join(problems) if problems else "same as twilio-python's")
sys.exit(1 if problems else 0)
