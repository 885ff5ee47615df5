"""A plain Python multiprocessing.connection client of examples/python_peer/server.ts.

It sends Python objects with conn.send() and reads weft's answers with conn.recv(),
exactly as it would with a Python Listener, then checks that every value came back equal.

    python3 examples/python_peer/client.py --key-file peer.key --port 9014

The authkey is read from the key file (hex), never from the command line.
"""
import argparse
import datetime as dt
import decimal
from multiprocessing.connection import Client

parser = argparse.ArgumentParser()
parser.add_argument("--key-file", required=True)
parser.add_argument("--port", type=int, default=9014)
args = parser.parse_args()
with open(args.key_file) as f:
    authkey = bytes.fromhex(f.read().strip())

sample = {
    "none": None, "flag": True, "small": 42, "huge": 2**100, "float": 2.5,
    "text": "héllo 🐍", "raw": b"\x00\xff", "buffer": bytearray(b"ab"),
    "list": [1, [2, 3]], "pair": (1, "one"), "dict": {"nested": {1: "int key"}},
    "set": {1, 2}, "frozen": frozenset({"x"}),
    "aware": dt.datetime(2026, 11, 25, 21, 0, tzinfo=dt.timezone.utc),
    "naive": dt.datetime(2026, 1, 2, 3, 4, 5, 6), "day": dt.date(1999, 12, 31),
    "span": dt.timedelta(days=1, seconds=1), "price": decimal.Decimal("9.99"), "z": 1 + 2j,
}

with Client(("127.0.0.1", args.port), authkey=authkey) as conn:
    conn.send(sample)
    status, types, echoed = conn.recv()
    assert status == "ok", status
    for key, value in sample.items():
        print(f"{type(value).__name__:>10} -> {types[key]}")
    assert echoed == sample, "the round trip changed a value"
    print("round trip: equal")
    # A pickle that would run a shell command in a Python receiver:
    conn.send_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")
    print("hostile pickle:", " ".join(conn.recv()))
    conn.send("bye")
