"""A plain Python multiprocessing.connection Listener for examples/python_peer/client.ts.

It receives (operation, argument) tuples with conn.recv(), computes with real Python
objects and answers with conn.send(): weft is an ordinary peer to it.

    python3 examples/python_peer/server.py --key-file peer.key [--port 9015]

Prints "python server listening on 127.0.0.1:PORT" once ready; serves one client.
The authkey is read from the key file (hex), never from the command line.
"""
import argparse
import datetime as dt
from multiprocessing.connection import Listener

parser = argparse.ArgumentParser()
parser.add_argument("--key-file", required=True)
parser.add_argument("--port", type=int, default=9015)
args = parser.parse_args()
with open(args.key_file) as f:
    authkey = bytes.fromhex(f.read().strip())

with Listener(("127.0.0.1", args.port), authkey=authkey) as listener:
    print("python server listening on %s:%d" % listener.address, flush=True)
    with listener.accept() as conn:
        while True:
            message = conn.recv()
            if message == "bye":
                break
            op, arg = message
            if op == "sum":
                conn.send(sum(arg))
            elif op == "tomorrow":
                conn.send(arg + dt.timedelta(days=1))
            elif op == "sorted":
                conn.send(tuple(sorted(arg)))
            elif op == "types":
                conn.send({key: type(value).__name__ for key, value in arg.items()})
            else:
                conn.send(("error", "unknown operation %r" % (op,)))
