"""Python peers for the tutorials' UDP programs, written from the
tutorials' descriptions to send and expect exactly their bytes.

    python3 udp_peers.py PROGRAM PORT

Servers bind 127.0.0.1:PORT (0 = any free port) and print "listening PORT".
Clients read their input() lines from stdin and stop at its end. Host and
port come from the command line; clients time out after 10 s instead of
waiting forever (no byte changes).
"""
import socket
import socketserver
import sys

from _peer import ADDR, lines, main, say


def bound():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(ADDR)
    say("listening", sock.getsockname()[1])
    return sock


# documents 001 and 004: recvfrom, print, sendto(data.upper())
def udp_server():
    server = bound()
    while True:
        data, addr = server.recvfrom(1024)
        say(data)
        say(addr)
        server.sendto(data.upper(), addr)


# document 001: socketserver.ThreadingUDPServer
class UpperHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        say("收到客户端的消息是:", data.upper())
        sock.sendto(data.upper(), self.client_address)


def socketserver_udp():
    server = socketserver.ThreadingUDPServer(ADDR, UpperHandler)
    say("listening", server.server_address[1])
    server.serve_forever()


# documents 001 and 004: input, sendto, recvfrom, print
def udp_client():
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(10)
    for line in lines(">>"):
        msg = line.strip()
        client.sendto(msg.encode("utf-8"), ADDR)
        data, addr = client.recvfrom(1024)
        say(data.decode("utf-8"))
        say(addr)


# document 000: send one datagram typed by the user, then close
def udp_sender():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    send_data = input("请输入要发送的数据:" if sys.stdin.isatty() else "")
    sock.sendto(send_data.encode("utf-8"), ADDR)
    sock.close()


# document 000: bind a fixed port, receive one datagram, print it as gbk
def udp_receiver():
    sock = bound()
    recv_data = sock.recvfrom(1024)
    say(recv_data[0].decode("gbk"))
    sock.close()


if __name__ == "__main__":
    main(globals())
