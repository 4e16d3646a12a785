"""Opens N hostile connections of one kind against a tokend on 127.0.0.1:PORT, keeps them busy
for SECONDS, and reports the server's RSS (from /proc) before, at its peak and after they close,
and how many of them the server had closed by the end.

    hostile.py PORT SERVER_PID KIND N SECONDS

Kinds: idle (connects, sends nothing), slow-head (a head that never ends), body-at-limit (a
64 KiB body short of its last byte), trickle (a body one byte a second), upgrade (an h2c
upgrade offer, then bytes as fast as the server takes them), connect (CONNECT, then bytes),
pipeline (GET /openapi.yaml pipelined as fast as the server takes them, never reading).
"""
import os, select, socket, sys, time

port, pid, kind, count, seconds = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])

def rss_mib():
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

OPENINGS = {
    "idle": b"",
    "slow-head": b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Slow: ",
    "body-at-limit": b"POST /v1/tokens HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 65536\r\n\r\n" + b"x" * 65535,
    "trickle": b"POST /v1/tokens HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 65536\r\n\r\n",
    "upgrade": b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
    "connect": b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
    "pipeline": b"",
}
STREAM = {
    "upgrade": b"A" * 65536,
    "connect": b"A" * 65536,
    "pipeline": b"GET /openapi.yaml HTTP/1.1\r\nHost: a\r\n\r\n" * 1000,
}

before = rss_mib()
sockets = []
for index in range(count):
    # Spread over loopback addresses so the per-address limit is not what refuses them.
    s = socket.socket()
    s.bind((f"127.0.{1 + index // 250}.{1 + index % 250}", 0))
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    sockets.append(s)
for s in sockets:
    try:
        s.send(OPENINGS[kind])
    except OSError:
        pass

peak = rss_mib()
sent = 0
deadline = time.time() + seconds
next_trickle = time.time()
open_sockets = set(sockets)
while time.time() < deadline and open_sockets:
    if kind in STREAM:
        _, writable, _ = select.select([], list(open_sockets)[:1000], [], 0.2)
        for s in writable:
            try:
                sent += s.send(STREAM[kind])
            except OSError:
                open_sockets.discard(s)
    else:
        time.sleep(0.2)
        if kind == "trickle" and time.time() >= next_trickle:
            next_trickle = time.time() + 1
            for s in list(open_sockets):
                try:
                    s.send(b"x")
                except OSError:
                    open_sockets.discard(s)
    peak = max(peak, rss_mib())

# How many did the server close (a read of b"" or a reset), without our reading what it sent?
closed = 0
for s in sockets:
    try:
        while True:
            data = s.recv(1 << 20)
            if not data:
                closed += 1
                break
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
for s in sockets:
    s.close()
time.sleep(1)
after = rss_mib()
print(f"{kind:14s} {count:6d} {before:9.1f} {peak:9.1f} {(peak - before) * 1024 / count:12.1f} {after:9.1f} {closed:7d} {sent / 1048576:10.1f}")
