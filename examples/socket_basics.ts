// The tutorials' first socket snippets, which create a socket without
// talking over it, and the encoding lesson that sits between the network
// programs. One part per program (--part):
//
//   udp-socket  document 000: create a UDP socket, (use it), close it.
//               Deno has no unbound socket object: binding port 0 is the
//               nearest equivalent (the OS picks the port, as Python's first
//               sendto() would). Prints nothing, like the tutorial.
//   tcp-socket  document 002: create a TCP socket object and print it.
//               Deno creates TCP sockets only by connect() or listen(), so
//               this prints what Python shows for a fresh socket and says
//               which Deno calls make one.
//   encoding    document 002: str.encode / bytes.decode in utf-8 and gbk,
//               the tutorial's lines. Its last line decodes gbk bytes as
//               utf-8, which makes Python stop with a UnicodeDecodeError
//               (exit 1); here the same message is printed and the program
//               exits 0, so the lesson's point (mismatched codecs fail) shows
//               without a crash.
//
//   deno run --allow-net=127.0.0.1 examples/socket_basics.ts --part udp-socket
//   deno run examples/socket_basics.ts --part tcp-socket
//   deno run examples/socket_basics.ts --part encoding
//
// UDP needs Deno's unstable net API: the repo's deno.json enables it.

import { parseArgs } from "node:util";
import { DatagramSocket } from "../net/mod.ts";
import { encode, pyBytes } from "./_tutorial.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { part: { type: "string" } },
});

switch (values.part) {
  case "udp-socket": {
    // s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM) ... s.close()
    const s = DatagramSocket.bind({ hostname: "127.0.0.1", port: 0 });
    s.close();
    break;
  }
  case "tcp-socket":
    // print(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    console.log(
      "<socket.socket fd=3, family=AddressFamily.AF_INET, type=SocketKind.SOCK_STREAM, proto=0, laddr=('0.0.0.0', 0)>",
    );
    console.log(
      "(in Deno a TCP socket comes into being with Deno.connect() or Deno.listen())",
    );
    break;
  case "encoding": {
    const s1 = "黑马1234abc!";
    console.log(pyBytes(encode(s1))); // s1.encode()
    console.log(pyBytes(encode(s1, "utf-8"))); // s1.encode("utf-8")
    const s2 = encode(s1);
    console.log("<class 'bytes'>"); // type(s2)
    console.log(new TextDecoder().decode(s2)); // s2.decode()
    const sgbk = encode("黑马", "gbk");
    console.log(pyBytes(sgbk)); // "黑马".encode("gbk")
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(sgbk);
    } catch {
      console.log(
        `UnicodeDecodeError: 'utf-8' codec can't decode byte 0x${
          sgbk[0].toString(16)
        } in position 0: invalid start byte`,
      );
    }
    break;
  }
  default:
    console.error(
      "Usage: socket_basics.ts --part udp-socket|tcp-socket|encoding",
    );
    Deno.exit(2);
}
