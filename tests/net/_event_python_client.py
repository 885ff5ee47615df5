# Debian's python3-socketio client against weft's serveEvents, driven by
# tests/net/event_python_test.ts. Prints one JSON object per step.
#
#   /usr/bin/python3 tests/net/_event_python_client.py URL TRANSPORTS SCENARIO
import json
import sys
import threading

import socketio

url, transports, scenario = sys.argv[1], sys.argv[2].split(","), sys.argv[3]


def out(**kw):
    print(json.dumps(kw), flush=True)


if scenario == "refused":
    sio = socketio.Client(reconnection=False)
    errors = []

    @sio.event
    def connect_error(data):
        errors.append(data)

    try:
        # python-socketio waits the whole wait_timeout after a refusal; 3 s
        # leaves room for a loaded machine to deliver the connect_error data
        sio.connect(url, transports=transports, auth={"token": "bad"}, wait_timeout=3)
        out(step="refused", connected=True)
    except socketio.exceptions.ConnectionError as e:
        out(step="refused", connected=False, error=str(e), data=errors)
    sys.exit(0)

if scenario.startswith("authkey:"):
    # The authkey proof from the documented scheme, computed in Python:
    # HMAC-SHA256(key, "weft-events/2 connect <engine sid> <namespace> <nonce>")
    import base64
    import hashlib
    import hmac
    import os

    key = scenario.split(":", 1)[1].encode()
    sio = socketio.Client(reconnection=False)

    def proof():
        nonce = base64.b64encode(os.urandom(16)).decode()
        text = f"weft-events/2 connect {sio.eio.sid} / {nonce}".encode()
        mac = base64.b64encode(hmac.new(key, text, hashlib.sha256).digest()).decode()
        return {"nonce": nonce, "hmac": mac, "user": "py"}

    sio.connect(url, transports=transports, auth=proof, wait_timeout=5)
    out(step="authkey", echoed=sio.call("echo", "proved", timeout=5))
    sio.disconnect()
    sys.exit(0)

sio = socketio.Client(reconnection=False)
said = threading.Event()
got = {}


@sio.on("said")
def on_said(text, extra):
    got["said"] = [text, extra["bytes"].hex()]
    said.set()


@sio.on("question", namespace="/chat")
def on_question(q):
    return ("answer to " + q, 42)


sio.connect(url, transports=transports, namespaces=["/", "/chat"],
            auth={"token": "py"}, wait_timeout=5)
out(step="connected", transport=sio.transport(), sid=sio.get_sid("/"))
joined = sio.call("join", "r", timeout=5)
out(step="join", ack=list(joined))
back = sio.call("bin", {"list": [b"\x01", {"x": b"\x02\x03"}]}, timeout=5)
out(step="bin", first=back[0]["list"][0].hex(), nested=back[0]["list"][1]["x"].hex(), tail=back[1].hex())
out(step="ready")
said.wait(10)
out(step="said", said=got.get("said"))
sio.emit("say", ("from python", {"bytes": b"\xff"}))
answered = sio.call("ask-me", timeout=5, namespace="/chat")
out(step="asked", answered=answered)
sio.disconnect()
