"""Python peers for the tutorial's file-upload lesson (document 002),
written from its description to send and expect exactly its bytes: the
client sends the file's raw bytes and closes; the server writes everything
until EOF, then sends "文件上传成功!" (UTF-8).

    python3 upload_peers.py upload-server PORT          -> ./data/my.txt
    python3 upload_peers.py upload-multi-server PORT    -> ./data/picture_N.jpg
    python3 upload_peers.py upload-client PORT FILE

Servers bind 127.0.0.1:PORT (0 = any free port), print "listening PORT",
and write under ./data of their working directory, as the tutorial does.
Host, port and the client's file come from the command line.
"""
import socket
import sys

from _peer import ADDR, listen, main, say


def receive(conn, path, bufsize):
    with open(path, "wb") as out:
        while True:
            data = conn.recv(bufsize)
            if len(data) == 0:
                break
            out.write(data)
    conn.send("文件上传成功!".encode("utf-8"))
    conn.close()


def upload_server():
    server = listen(10)
    conn, _ = server.accept()
    receive(conn, "./data/my.txt", 1024)
    say("saved ./data/my.txt")


def upload_multi_server():
    server = listen(10)
    count = 0
    while True:
        count += 1
        try:
            conn, _ = server.accept()
            receive(conn, "./data/picture_" + str(count) + ".jpg", 3072)
            say("saved picture_%d.jpg" % count)
        except Exception:
            pass


def upload_client():
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.connect(ADDR)
    with open(sys.argv[3], "rb") as src:
        while True:
            data = src.read(1024)
            client.send(data)
            if len(data) == 0:
                break
    say("客户端收到消息")
    client.close()


if __name__ == "__main__":
    main(globals())
