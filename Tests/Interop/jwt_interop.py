#!/usr/bin/env python3
"""Interop: tokens minted by the `tokend` CLI, checked by independent implementations.

- PyJWT verifies generic and Twilio-profile tokens with the secret (HS256 only).
- twilio-python's AccessToken, given the same inputs, produces the same header fields, claim set
  and grant layout as tokend's Twilio profile: every grant twilio-python has, with every field,
  and a key's region as the `twr` header.

Usage: jwt_interop.py PATH/TO/tokend
"""
import os
import re
import subprocess
import sys
import tempfile

import jwt
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant, PlaybackGrant, SyncGrant, TaskRouterGrant, VideoGrant, VoiceGrant

TOKEND = sys.argv[1]
GENERIC_SECRET = "interop-generic-secret-0123456789abcdef-0123"
TWILIO_SID = "SK0123456789abcdef0123456789abcdef"
TWILIO_SECRET = "interop-twilio-secret-0123456789ab"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
REGION_SID = "SKfedcba9876543210fedcba9876543210"

SECRETS = f"""
issuer = "tokend-interop"

[[signing_keys]]
kid = "2026-11"
secret = "{GENERIC_SECRET}"
active = true

[[signing_keys]]
kid = "{TWILIO_SID}"
secret = "{TWILIO_SECRET}"
account_sid = "{ACCOUNT_SID}"
profile = "twilio"

[[signing_keys]]
kid = "{REGION_SID}"
secret = "{TWILIO_SECRET}"
account_sid = "{ACCOUNT_SID}"
profile = "twilio"
region = "ie1"
"""

failures = []
passes = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    (passes if condition else failures).append(message)


def mint(secrets_path, *arguments):
    result = subprocess.run([TOKEND, "mint", "--secrets", secrets_path, *arguments],
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


with tempfile.TemporaryDirectory() as directory:
    secrets_path = os.path.join(directory, "secrets.toml")
    with open(secrets_path, "w") as handle:
        handle.write(SECRETS)
    os.chmod(secrets_path, 0o600)

    # Generic profile, verified by PyJWT.
    token = mint(secrets_path, "--identity", "alice", "--ttl", "2h", "--grant", "data_sync:service_sid=IS1")
    claims = jwt.decode(token, GENERIC_SECRET, algorithms=["HS256"], issuer="tokend-interop",
                        options={"require": ["exp", "iat", "nbf", "iss", "sub", "jti"]})
    header = jwt.get_unverified_header(token)
    check(header == {"alg": "HS256", "typ": "JWT", "kid": "2026-11"}, f"generic header {header}")
    check(claims["sub"] == "alice", "generic sub")
    check(claims["exp"] - claims["nbf"] == 7200, "generic exp - nbf == ttl")
    check(claims["grants"] == {"identity": "alice", "data_sync": {"service_sid": "IS1"}}, "generic grants")
    check(re.fullmatch(r"[A-Za-z0-9_-]{22}", claims["jti"]) is not None, "generic jti is 128 random bits")
    try:
        jwt.decode(token, "wrong-secret-0123456789abcdef-0123456789", algorithms=["HS256"])
        check(False, "PyJWT rejects a wrong secret")
    except jwt.InvalidSignatureError:
        check(True, "PyJWT rejects a wrong secret")

    # Awkward strings survive: quotes, backslashes, control characters, non-ASCII.
    awkward = 'q"uote \\ back é 😀'
    token = mint(secrets_path, "--identity", awkward, "--grant", f"chat:service_sid={awkward}")
    claims = jwt.decode(token, GENERIC_SECRET, algorithms=["HS256"])
    check(claims["sub"] == awkward and claims["grants"]["chat"]["service_sid"] == awkward, "escaping survives PyJWT")

    # Twilio profile: PyJWT verifies, and twilio-python builds the same layout.
    ours = mint(secrets_path, "--key", TWILIO_SID, "--identity", "alice", "--ttl", "3600",
                "--grant", "data_sync:service_sid=IS11111111111111111111111111111111",
                "--grant", "chat:service_sid=IS22222222222222222222222222222222",
                "--grant", "video:room=standup")
    our_claims = jwt.decode(ours, TWILIO_SECRET, algorithms=["HS256"])
    access_token = AccessToken(ACCOUNT_SID, TWILIO_SID, TWILIO_SECRET, identity="alice", ttl=3600)
    access_token.add_grant(SyncGrant(service_sid="IS11111111111111111111111111111111"))
    access_token.add_grant(ChatGrant(service_sid="IS22222222222222222222222222222222"))
    access_token.add_grant(VideoGrant(room="standup"))
    theirs = access_token.to_jwt()
    their_claims = jwt.decode(theirs, TWILIO_SECRET, algorithms=["HS256"])

    our_header, their_header = jwt.get_unverified_header(ours), jwt.get_unverified_header(theirs)
    check(our_header == their_header, f"twilio header: ours {our_header} theirs {their_header}")
    check(set(our_claims) == set(their_claims), f"twilio claim set: ours {sorted(our_claims)} theirs {sorted(their_claims)}")
    check(our_claims["grants"] == their_claims["grants"], f"twilio grants: ours {our_claims['grants']} theirs {their_claims['grants']}")
    for name in ("iss", "sub"):
        check(our_claims[name] == their_claims[name], f"twilio {name}")
    check(our_claims["jti"] == f"{TWILIO_SID}-{our_claims['nbf']}", "twilio jti is <SK>-<issued at>")
    check(re.fullmatch(TWILIO_SID + r"-\d+", their_claims["jti"]) is not None, "twilio-python jti has the same form")
    check(our_claims["exp"] - our_claims["nbf"] == 3600, "twilio exp - nbf == ttl")
    check(abs(their_claims["exp"] - our_claims["exp"]) <= 5, "twilio exp agrees")

    # Every grant of twilio-python, every field, in one token: the same grants object.
    sid = lambda prefix, digit: prefix + digit * 32
    playback_url = "https://example.com/live/stream.m3u8"
    ours = mint(secrets_path, "--key", TWILIO_SID, "--identity", "alice",
                "--grant", f"data_sync:service_sid={sid('IS', '1')},endpoint_id=app:alice:phone-1",
                "--grant", f"chat:service_sid={sid('IS', '2')},endpoint_id=app:alice:web,deployment_role_sid={sid('RL', '3')},push_credential_sid={sid('CR', '4')}",
                "--grant", "video:room=standup",
                "--grant", f"voice:incoming.allow=true,outgoing.application_sid={sid('AP', '5')},outgoing.params.queue=support,push_credential_sid={sid('CR', '6')},endpoint_id=app:alice:desk",
                "--grant", f"task_router:workspace_sid={sid('WS', '7')},worker_sid={sid('WK', '8')},role=supervisor",
                "--grant", f"player:playbackUrl={playback_url},playerStreamerSid={sid('VJ', '9')}")
    access_token = AccessToken(ACCOUNT_SID, TWILIO_SID, TWILIO_SECRET, identity="alice")
    access_token.add_grant(SyncGrant(service_sid=sid("IS", "1"), endpoint_id="app:alice:phone-1"))
    access_token.add_grant(ChatGrant(service_sid=sid("IS", "2"), endpoint_id="app:alice:web",
                                     deployment_role_sid=sid("RL", "3"), push_credential_sid=sid("CR", "4")))
    access_token.add_grant(VideoGrant(room="standup"))
    access_token.add_grant(VoiceGrant(incoming_allow=True, outgoing_application_sid=sid("AP", "5"),
                                      outgoing_application_params={"queue": "support"},
                                      push_credential_sid=sid("CR", "6"), endpoint_id="app:alice:desk"))
    access_token.add_grant(TaskRouterGrant(workspace_sid=sid("WS", "7"), worker_sid=sid("WK", "8"), role="supervisor"))
    access_token.add_grant(PlaybackGrant(grant={"playbackUrl": playback_url, "playerStreamerSid": sid("VJ", "9")}))
    our_grants = jwt.decode(ours, TWILIO_SECRET, algorithms=["HS256"])["grants"]
    their_grants = jwt.decode(access_token.to_jwt(), TWILIO_SECRET, algorithms=["HS256"])["grants"]
    check(set(their_grants) == {"identity", "data_sync", "chat", "video", "voice", "task_router", "player"},
          f"twilio-python's grants are the six tokend knows: {sorted(their_grants)}")
    check(our_grants == their_grants, f"every grant and field: ours {our_grants} theirs {their_grants}")

    # A key's region: the twr header, as AccessToken(region=...) writes it.
    ours = mint(secrets_path, "--key", REGION_SID, "--identity", "alice", "--grant", f"data_sync:service_sid={sid('IS', '1')}")
    theirs = AccessToken(ACCOUNT_SID, REGION_SID, TWILIO_SECRET, identity="alice", region="ie1")
    theirs.add_grant(SyncGrant(service_sid=sid("IS", "1")))
    our_header, their_header = jwt.get_unverified_header(ours), jwt.get_unverified_header(theirs.to_jwt())
    check(our_header == their_header and our_header.get("twr") == "ie1", f"twilio region header: ours {our_header} theirs {their_header}")
    jwt.decode(ours, TWILIO_SECRET, algorithms=["HS256"])
    check(True, "PyJWT verifies a token with twr")

    # A wrong SID is refused at mint time, naming the field.
    refused = subprocess.run([TOKEND, "mint", "--secrets", secrets_path, "--key", TWILIO_SID, "--identity", "alice",
                              "--grant", f"data_sync:service_sid={sid('AP', '1')}"], capture_output=True, text=True)
    check(refused.returncode != 0 and "data_sync.service_sid" in refused.stderr and "IS followed by 32 hex" in refused.stderr,
          f"a wrong SID is refused: {refused.stderr.strip()}")

print(f"interop: {len(passes)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
