"""Python peers for the FTP tutorial (document 001, "FTP服务器"), written
from its description to send and expect exactly its bytes:

    python3 ftp_peers.py server PORT ROOT
        socketserver.ThreadingTCPServer; accounts in ROOT/conf/accounts.cfg
        (configparser: [user] Password = ...), homes in ROOT/home/<user>
    python3 ftp_peers.py client -s HOST -P PORT -u USER -p PASSWORD
        commands from stdin: ls | cd DIR | mkdir DIR | put LOCAL TARGET_DIR;
        after "800" the next line answers "is continue?[Y/N]"

Protocol: unframed JSON commands ({"action": ...}); auth answers
{"status_code": 254|253}; put answers "802" (new), "801" (complete),
"800" (partial: the client says "Y" and gets str(size) back, or "N"), then
the client sends the bytes; ls answers names joined by "\\n" or
"<empty dir>"; cd answers the new path; mkdir answers "create success" or
"dirname exist".

Deviations that change no byte: the server prints "listening PORT", takes
its port and root from the command line and ends a connection whose recv()
returned b'' (the tutorial's json.loads(b'') raises there); the client's
local files are relative to its working directory (the tutorial uses its
script's folder), it skips empty lines, stops at the end of stdin, and has
a 10 s socket timeout.
"""
import configparser
import json
import optparse
import os
import socket
import socketserver
import sys

STATUS_CODE = {
    253: "Wrong username or password",
    254: "Passed authentication",
}


# ---------------------------------------------------------------- server
class ServerHandler(socketserver.BaseRequestHandler):
    root = "."

    def handle(self):
        while True:
            data = self.request.recv(1024).strip()
            if not data:
                break
            data = json.loads(data.decode("utf8"))
            action = data.get("action")
            if action and hasattr(self, "do_" + action):
                getattr(self, "do_" + action)(**data)
            else:
                print("Invalid cmd", flush=True)

    def send_response(self, status_code):
        self.request.sendall(json.dumps({"status_code": status_code}).encode("utf8"))

    def do_auth(self, **data):
        cfg = configparser.ConfigParser()
        cfg.read(os.path.join(self.root, "conf", "accounts.cfg"))
        username, password = data["username"], data["password"]
        if username in cfg.sections() and cfg[username]["Password"] == password:
            self.mainPath = os.path.join(self.root, "home", username)
            print("passed authenticate", flush=True)
            self.send_response(254)
        else:
            self.send_response(253)

    def do_put(self, **data):
        file_name = data.get("file_name")
        file_size = data.get("file_size")
        target_path = data.get("target_path")
        abs_path = os.path.join(self.mainPath, target_path, file_name)
        has_received = 0
        if os.path.exists(abs_path):
            file_has_size = os.stat(abs_path).st_size
            if file_has_size < file_size:
                self.request.sendall("800".encode("utf8"))
                choice = self.request.recv(1024).decode("utf8")
                if choice == "Y":
                    self.request.sendall(str(file_has_size).encode("utf8"))
                    has_received = file_has_size
                    f = open(abs_path, "ab")
                else:
                    f = open(abs_path, "wb")
            else:
                self.request.sendall("801".encode("utf8"))
                return
        else:
            self.request.sendall("802".encode("utf8"))
            f = open(abs_path, "wb")
        while has_received < file_size:
            data = self.request.recv(1024)
            if not data:
                break
            f.write(data)
            has_received += len(data)
        f.close()
        print("saved", abs_path, has_received, flush=True)

    def do_ls(self, **data):
        file_list = os.listdir(self.mainPath)
        file_str = "\n".join(file_list) if file_list else "<empty dir>"
        self.request.sendall(file_str.encode("utf8"))

    def do_cd(self, **data):
        dirname = data.get("dirname")
        if dirname == "..":
            self.mainPath = os.path.dirname(self.mainPath)
        else:
            self.mainPath = os.path.join(self.mainPath, dirname)
        self.request.sendall(self.mainPath.encode("utf8"))

    def do_mkdir(self, **data):
        path = os.path.join(self.mainPath, data.get("dirname"))
        if not os.path.exists(path):
            os.makedirs(path)
            self.request.sendall("create success".encode("utf8"))
        else:
            self.request.sendall("dirname exist".encode("utf8"))


def server():
    ServerHandler.root = sys.argv[3]
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    s = socketserver.ThreadingTCPServer(("127.0.0.1", int(sys.argv[2])), ServerHandler)
    print("listening", s.server_address[1], flush=True)
    s.serve_forever()


# ---------------------------------------------------------------- client
def lines(prompt):
    while True:
        try:
            yield input(prompt() if sys.stdin.isatty() else "")
        except EOFError:
            return


class ClientHandler:
    def __init__(self):
        op = optparse.OptionParser()
        op.add_option("-s", "--server", dest="server")
        op.add_option("-P", "--port", dest="port")
        op.add_option("-u", "--username", dest="username")
        op.add_option("-p", "--password", dest="password")
        self.options, _ = op.parse_args(sys.argv[2:])
        self.sock = socket.socket()
        self.sock.settimeout(10)
        self.sock.connect((self.options.server, int(self.options.port)))
        self.current_dir = ""
        self.input = lines(lambda: "[%s]" % self.current_dir)

    def interactive(self):
        if not self.authenticate():
            return
        for cmd_info in self.input:
            cmd_list = cmd_info.split()
            if cmd_list and hasattr(self, "cmd_" + cmd_list[0]):
                getattr(self, "cmd_" + cmd_list[0])(*cmd_list)

    def authenticate(self):
        data = {"action": "auth", "username": self.options.username,
                "password": self.options.password}
        self.sock.send(json.dumps(data).encode("utf8"))
        response = json.loads(self.sock.recv(1024).decode("utf8"))
        print("response:", response["status_code"])
        print(STATUS_CODE[response["status_code"]])
        if response["status_code"] == 254:
            self.current_dir = self.options.username
            return True
        return False

    def cmd_put(self, *cmd_list):
        _, local_path, target_path = cmd_list
        local_path = os.path.join(os.getcwd(), local_path)
        file_size = os.stat(local_path).st_size
        data = {"action": "put", "file_name": os.path.basename(local_path),
                "file_size": file_size, "target_path": target_path}
        self.sock.send(json.dumps(data).encode("utf8"))
        is_exist = self.sock.recv(1024).decode("utf8")
        has_send = 0
        if is_exist == "800":
            choice = next(self.input, "N").strip()
            if choice.upper() == "Y":
                self.sock.sendall("Y".encode("utf8"))
                has_send += int(self.sock.recv(1024).decode("utf8"))
            else:
                self.sock.sendall("N".encode("utf8"))
        elif is_exist == "801":
            print("the file exist")
            return
        with open(local_path, "rb") as f:
            f.seek(has_send)
            while has_send < file_size:
                chunk = f.read(1024)
                self.sock.sendall(chunk)
                has_send += len(chunk)
        print("successfully upload!")

    def cmd_ls(self, *cmd_list):
        self.sock.sendall(json.dumps({"action": "ls"}).encode("utf8"))
        print(self.sock.recv(1024).decode("utf8"))

    def cmd_cd(self, *cmd_list):
        self.sock.sendall(json.dumps({"action": "cd", "dirname": cmd_list[1]}).encode("utf8"))
        self.current_dir = os.path.basename(self.sock.recv(1024).decode("utf8"))
        print("[%s]" % self.current_dir)

    def cmd_mkdir(self, *cmd_list):
        self.sock.sendall(json.dumps({"action": "mkdir", "dirname": cmd_list[1]}).encode("utf8"))
        self.sock.recv(1024)


def client():
    ClientHandler().interactive()
    sys.stdout.flush()


if __name__ == "__main__":
    globals()[sys.argv[1]]()
