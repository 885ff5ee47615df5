"""python-socketio clients for the tutorial's socket.io server (document
003): the tutorial shows only the server, so this peer does what its
comments describe a client doing, with the official python-socketio
Client (Debian's python3-socketio, run by /usr/bin/python3):

- two clients connect; every client receives "addChat" with each new sid;
- A emits "message": everyone gets "reply" {"message": "hello", "sid": A};
- A emits "sendMessage" {"content", "destId": B}: only B gets "reply".

    /usr/bin/python3 socketio_client.py URL

Prints what each client received and exits 0 when it all matched.
"""
import sys
import threading

import socketio

URL = sys.argv[1]
TIMEOUT = 10


class Peer:
    def __init__(self, name):
        self.name = name
        self.sio = socketio.Client()
        self.add_chat = []
        self.replies = []
        self.changed = threading.Condition()
        self.sio.on("addChat", self.on_add_chat)
        self.sio.on("reply", self.on_reply)

    def on_add_chat(self, sid):
        with self.changed:
            self.add_chat.append(sid)
            self.changed.notify_all()

    def on_reply(self, data):
        with self.changed:
            self.replies.append(data)
            self.changed.notify_all()

    def wait(self, predicate):
        with self.changed:
            if not self.changed.wait_for(predicate, TIMEOUT):
                raise SystemExit("%s: timed out; addChat=%r replies=%r"
                                 % (self.name, self.add_chat, self.replies))

    @property
    def sid(self):
        return self.sio.get_sid()


a, b = Peer("A"), Peer("B")
a.sio.connect(URL, wait_timeout=TIMEOUT)
a.wait(lambda: a.sid in a.add_chat)
b.sio.connect(URL, wait_timeout=TIMEOUT)
b.wait(lambda: b.sid in b.add_chat)
a.wait(lambda: b.sid in a.add_chat)  # A hears about B too

a.sio.emit("message", "hi")
expected = {"message": "hello", "sid": a.sid}
a.wait(lambda: expected in a.replies)
b.wait(lambda: expected in b.replies)

a.sio.emit("sendMessage", {"content": "私聊", "destId": b.sid})
b.wait(lambda: "私聊" in b.replies)
a.sio.emit("message", "fence")  # once A sees this, the private one is past it
a.wait(lambda: a.replies.count(expected) == 2)
assert "私聊" not in a.replies, a.replies

print("A addChat:", len(a.add_chat), "replies:", a.replies)
print("B addChat:", len(b.add_chat), "replies:", b.replies)
a.sio.disconnect()
b.sio.disconnect()
print("ok")
