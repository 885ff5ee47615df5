"""Shared by the tutorial peers in this folder: their command line
(PROGRAM PORT ...), a flushed print, the input() lines of stdin, a
listening or connected TCP socket on 127.0.0.1, and running the function
PROGRAM names. The peers import it from their own folder (Python puts a
script's folder first on sys.path).
"""
import socket
import sys

PROGRAM = sys.argv[1]
PORT = int(sys.argv[2])
ADDR = ("127.0.0.1", PORT)


def say(*args):
    print(*args, flush=True)


def lines(prompt=""):
    # The tutorials' input(prompt); the prompt only on a terminal, so that
    # tests compare clean output.
    prompt = prompt if sys.stdin.isatty() else ""
    while True:
        try:
            yield input(prompt)
        except EOFError:
            return


def listen(backlog=5):
    """A TCP server socket on ADDR (port 0 = any free one); prints
    "listening PORT" for the tests."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(ADDR)
    server.listen(backlog)
    say("listening", server.getsockname()[1])
    return server


def connect():
    """A TCP client socket connected to ADDR (10 s timeout per call)."""
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.settimeout(10)
    client.connect(ADDR)
    return client


def main(functions):
    """Runs the function PROGRAM names ("loop-server" -> loop_server)."""
    functions[PROGRAM.replace("-", "_")]()
