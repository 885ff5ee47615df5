// Demo step: weft's serveUdp answers DatagramSocket.request() calls.
import { DatagramSocket, serveUdp } from "../../net/mod.ts";
import type { DemoStep } from "./step.ts";

export const step: DemoStep = {
  title: "net: UDP upper-case echo (serveUdp + DatagramSocket.request)",
  async run() {
    const decoder = new TextDecoder();
    await using server = serveUdp({
      port: 0,
      handler: (data) => decoder.decode(data).toUpperCase(),
    });
    using client = DatagramSocket.bind();
    const words = ["socket", "datagram", "weft", "deno", "python"];
    const replies = [];
    for (const word of words) {
      const reply = await client.request(server.addr, word, {
        timeout: 1000,
        retries: 3,
      });
      replies.push(decoder.decode(reply));
    }
    if (replies.join() !== words.map((w) => w.toUpperCase()).join()) {
      throw new Error(`Unexpected replies: ${replies}`);
    }
    return [`${words.length} datagrams answered: ${replies.join(" ")}`];
  },
};
