"""Python peers for the tutorial's sticky-packet lesson (a remote shell),
written from its description to send and expect exactly its bytes.

    python3 sticky_peers.py PROGRAM PORT

ready-server / ready-client   method 1: the server sends str(len) in ASCII,
                              the client answers b'ready', then the output
struct-server / struct-client method 2: struct.pack('i', len) + output

Servers bind 127.0.0.1:PORT (0 = any free port) and print "listening PORT".
Clients read commands from stdin (input()), skip empty ones, stop at 'quit'
or the end of input, and print each reply decoded.

Deviation: the tutorial's servers run any text with subprocess.Popen(cmd,
shell=True). These peers must not execute what arrives from the network
during a test, so they run only echo / false / seq, without a shell; the
bytes they send back are built exactly as the lesson builds them (stderr if
any, else stdout, else b'excute success').
"""
import shlex
import struct
import subprocess

from _peer import connect, lines, listen, main, say

ALLOWED = {"echo", "false", "seq"}


def run(cmd):
    argv = shlex.split(cmd)
    if not argv or argv[0] not in ALLOWED:
        return ("refused: %s\n" % cmd).encode("utf-8")
    res = subprocess.run(argv, capture_output=True)
    output = res.stderr or res.stdout
    return output or "excute success".encode("utf-8")


def serve(send_reply):
    server = listen()
    while True:
        conn, _ = server.accept()
        while True:
            cmd = conn.recv(1024)
            if not cmd:
                break
            send_reply(conn, run(cmd.decode("utf-8")))
        conn.close()


def ready_reply(conn, output):
    conn.send(str(len(output)).encode("utf-8"))
    if conn.recv(1024) == b"ready":
        conn.send(output)


def struct_reply(conn, output):
    conn.send(struct.pack("i", len(output)))
    conn.send(output)


def ready_server():
    serve(ready_reply)


def struct_server():
    serve(struct_reply)


def client(read_length):
    sock = connect()
    for line in lines(">>>"):
        cmd = line.strip()
        if not cmd:
            continue
        if cmd == "quit":
            break
        sock.send(cmd.encode("utf-8"))
        length = read_length(sock)
        received = b""
        while len(received) < length:
            received += sock.recv(1024)
        say(received.decode("gbk"))
    sock.close()


def ready_length(sock):
    length = sock.recv(1024)
    sock.send(b"ready")
    return int(length.decode("utf-8"))


def struct_length(sock):
    return struct.unpack("i", sock.recv(4))[0]


def ready_client():
    client(ready_length)


def struct_client():
    client(struct_length)


if __name__ == "__main__":
    main(globals())
