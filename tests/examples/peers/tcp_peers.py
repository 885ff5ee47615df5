"""Python peers for the tutorials' plain TCP programs (echo, fixed replies,
greeting, select/selectors, non-blocking), written from the tutorials'
descriptions to send and expect exactly their bytes.

    python3 tcp_peers.py PROGRAM PORT

Servers bind 127.0.0.1:PORT (0 = any free port) and print "listening PORT".
Clients read their input() lines from stdin, as the tutorials do. Deviations
from the tutorials, none of which changes a byte on the wire: host and port
come from the command line, the tutorials' sleep()s between messages are
left out, servers stop reading a client whose recv() returned b'' (the
tutorials' loop/select servers would spin on it), and clients stop at the
end of stdin.
"""
import select
import selectors
import socketserver
import threading
from multiprocessing import Process

from _peer import ADDR, connect, lines, listen, main, say


# ---- document 001: "phone" server and client (one message each) ----
def phone_server():
    server = listen()
    conn, _ = server.accept()
    msg = conn.recv(1024)
    say("客户端发来的消息是:", msg)
    conn.send(msg.upper())
    conn.close()
    server.close()


def phone_client():
    client = connect()
    client.send("hello".encode("utf-8"))
    data = client.recv(1024)
    say("收到服务端发来的消息", data)
    client.close()


# ---- document 001: endless loop server and client ----
def loop_server():
    server = listen()
    conn, addr = server.accept()
    say("客户端地址", addr)
    while True:
        data = conn.recv(1024)
        if not data:
            break
        say("客户端发来的消息是", data.decode("utf-8"))
        conn.send(data.upper())
    conn.close()
    server.close()


def loop_client():
    client = connect()
    for msg in lines(">>:"):
        client.send(msg.strip().encode("utf-8"))
        say("客户端已经发送消息")
        data = client.recv(1024)
        say("收到服务端发来消息", data.decode("utf-8"))
    client.close()


# ---- document 001: socketserver.ThreadingTCPServer, and its client ----
class UpperHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(1024)
            if not data:
                break
            say("收到客户端的消息是", data)
            self.request.sendall(data.upper())


def socketserver_tcp():
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    server = socketserver.ThreadingTCPServer(ADDR, UpperHandler)
    say("listening", server.server_address[1])
    server.serve_forever()


def quit_client():
    client = connect()
    for line in lines(">>"):
        msg = line.strip()
        if not msg:
            continue
        if msg == "quit":
            break
        client.send(msg.encode("utf-8"))
        data = client.recv(1024)
        say("收到服务端发来的消息:", data.decode("utf-8"))
    client.close()


# ---- document 001: select server (answers typed on stdin) and client ----
def select_server():
    server = listen()
    inputs = [server]
    answers = lines()
    while True:
        readable, _, _ = select.select(inputs, [], [], 3)
        for sock in readable:
            if sock is server:
                conn, _ = sock.accept()
                inputs.append(conn)
                continue
            data = sock.recv(1024)
            if not data:
                inputs.remove(sock)
                sock.close()
                continue
            say(str(data, "utf8"))
            answer = next(answers, None)
            if answer is None:
                return
            sock.sendall(bytes(answer, "utf8"))


def select_client():
    client = connect()
    for inp in lines(">>>>"):
        client.sendall(bytes(inp, "utf8"))
        data = client.recv(1024)
        say(str(data, "utf8"))
    client.close()


# ---- document 001: selectors server (upper-case echo) ----
def selectors_server():
    sel = selectors.DefaultSelector()

    def accept(sock):
        conn, addr = sock.accept()
        conn.setblocking(False)
        sel.register(conn, selectors.EVENT_READ, read)

    def read(conn):
        data = conn.recv(1000)
        if not data:
            sel.unregister(conn)
            conn.close()
            return
        say("收到:", data.decode("utf8"))
        conn.send(data.upper())

    server = listen(100)
    server.setblocking(False)
    sel.register(server, selectors.EVENT_READ, accept)
    while True:
        for key, _ in sel.select():
            key.data(key.fileobj)


# ---- document 001: non-blocking accept loop and its client ----
def nonblocking_server():
    import time

    server = listen()
    server.setblocking(False)
    while True:
        try:
            conn, addr = server.accept()
        except BlockingIOError:
            time.sleep(0.05)
            continue
        say("+++", addr)
        data = conn.recv(1024)
        say(str(data, "utf8"))
        conn.close()
        return


def nonblocking_client():
    client = connect()
    say("hello")
    client.sendall(bytes("hello", "utf8"))
    client.close()


# ---- document 000: gbk client and the "thank you !" server ----
def gbk_client():
    client = connect()
    for send_data in lines("请输入要发送的数据:"):
        client.send(send_data.encode("gbk"))
        recv_data = client.recv(1024)
        say("接收到的数据为:", recv_data.decode("gbk"))
    client.close()


def thankyou_server():
    server = listen(128)
    conn, _ = server.accept()
    recv_data = conn.recv(1024)
    say("接收到的数据为:", recv_data.decode("gbk"))
    conn.send("thank you !".encode("gbk"))
    conn.close()
    server.close()


# ---- document 003: multi-process and multi-thread servers ----
def deal_with_client(conn, addr, reply):
    while True:
        recv_data = conn.recv(1024).decode("gbk")
        if len(recv_data) > 0:
            say("recv[%s]:%s" % (str(addr), recv_data))
            conn.send(reply)
        else:
            say("[%s]客户端已经关闭" % str(addr))
            break
    conn.close()


def process_server():
    server = listen()
    while True:
        conn, addr = server.accept()
        child = Process(target=deal_with_client, args=(conn, addr, b"ok!"))
        child.start()
        conn.close()


def thread_server():
    server = listen()
    while True:
        conn, addr = server.accept()
        threading.Thread(
            target=deal_with_client, args=(conn, addr, b"threadOK!")
        ).start()


# ---- document 002: "welcome to socket" server (once and looping), client ----
def welcome_once(server):
    conn, info = server.accept()
    conn.send(b"welcome to socket")
    data = conn.recv(1024).decode("utf-8")
    say(f"服务器端收到来自{info}的信息:{data}")
    conn.close()


def welcome_server():
    welcome_once(listen())


def welcome_loop_server():
    server = listen()
    while True:
        try:
            welcome_once(server)
        except Exception:
            pass


def welcome_client():
    client = connect()
    data = client.recv(1024).decode("utf-8")
    say(f"客户端收到:{data}")
    client.send("socket很好玩，很有趣，我很喜欢！".encode("utf-8"))
    client.close()


if __name__ == "__main__":
    main(globals())
