"""Python client of examples/hmac_echo_pickle_server.ts: sends each stdin line as a small
Python object with conn.send() and prints what comes back from conn.recv().

    python3 examples/python_peer/echo_client.py --key-file echo.key --port 9005

Prints "authenticated", then one repr per line, "same" when the echo equals what was sent.
A wrong key ends with "refused: ..." and exit code 1. The authkey is read from the key file.
"""
import argparse
import sys
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client

parser = argparse.ArgumentParser()
parser.add_argument("--key-file", required=True)
parser.add_argument("--port", type=int, default=9005)
args = parser.parse_args()
with open(args.key_file) as f:
    authkey = bytes.fromhex(f.read().strip())

try:
    conn = Client(("127.0.0.1", args.port), authkey=authkey)
except AuthenticationError as error:
    print("refused:", error)
    sys.exit(1)
print("authenticated", flush=True)
with conn:
    for line in sys.stdin:
        line = line.rstrip("\n")
        value = (line, len(line), {"upper": line.upper(), "bytes": line.encode(), "big": 2**64 + len(line)})
        conn.send(value)
        back = conn.recv()
        print(repr(back), "same" if back == value else "DIFFERENT", flush=True)
