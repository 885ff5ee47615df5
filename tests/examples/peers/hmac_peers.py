"""Python peers for the tutorial's hmac lesson ("verify the client is
legitimate"), written from its description to send and expect exactly its
bytes: the server sends os.urandom(32); the client answers with the HMAC of
those bytes under the shared key; only then does the upper-case echo begin.

    python3 hmac_peers.py server PORT [KEY]
    python3 hmac_peers.py client PORT [KEY]

KEY defaults to the lesson's b'alex bang bang bang'. The lesson calls
hmac.new(key, msg), whose digest was MD5 by default; Python 3.8+ requires
the digest to be named, so these peers say digestmod="md5" (same bytes).
The document prints the server's code a second time where the client's
should be; the client here does what the lesson describes. The server
binds 127.0.0.1:PORT (0 = any free port) and prints "listening PORT"; the
client reads lines from stdin (skips empty ones, stops at 'quit' or the end).
"""
import hmac
import os
import sys

from _peer import connect, listen, main, say

SECRET_KEY = (sys.argv[3] if len(sys.argv) > 3 else "alex bang bang bang").encode()


def conn_auth(conn):
    say("开始验证新链接的合法性")
    msg = os.urandom(32)
    conn.sendall(msg)
    digest = hmac.new(SECRET_KEY, msg, "md5").digest()
    response = conn.recv(len(digest))
    return hmac.compare_digest(response, digest)


def server():
    sock = listen()
    while True:
        conn, addr = sock.accept()
        say("新连接[%s:%s]" % (addr[0], addr[1]))
        if not conn_auth(conn):
            say("该链接不合法,关闭")
            conn.close()
            continue
        say("链接合法,开始通信")
        while True:
            data = conn.recv(1024)
            if not data:
                break
            conn.sendall(data.upper())
        conn.close()


def client():
    sock = connect()
    msg = sock.recv(32)
    sock.sendall(hmac.new(SECRET_KEY, msg, "md5").digest())
    while True:
        try:
            data = input(">>: " if sys.stdin.isatty() else "").strip()
        except EOFError:
            break
        if not data:
            continue
        if data == "quit":
            break
        sock.sendall(data.encode("utf-8"))
        response = sock.recv(1024)
        if not response:
            say("closed by the server")
            break
        say(response.decode("utf-8"))
    sock.close()


if __name__ == "__main__":
    main(globals())
