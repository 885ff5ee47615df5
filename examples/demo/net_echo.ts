// Demo step: weft's serveTcp + FramedConnection echo frames of random sizes
// for many concurrent clients, with every frame checked byte for byte.
import {
  FramedConnection,
  LengthPrefixCodec,
  serveTcp,
} from "../../net/mod.ts";
import type { DemoStep } from "./step.ts";

const CLIENTS = 20;
const FRAMES = 50;

export const step: DemoStep = {
  title:
    "net: TCP echo of length-prefixed frames (serveTcp + FramedConnection)",
  async run() {
    const codec = new LengthPrefixCodec({
      headerBytes: 4,
      maxFrameSize: 64 * 1024,
    });
    await using server = await serveTcp({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 10_000,
      handler: async (conn) => {
        const framed = new FramedConnection(conn, codec);
        for await (const frame of framed) await framed.send(frame);
      },
    });
    const started = performance.now();
    let bytes = 0;
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      using client = new FramedConnection(
        await Deno.connect(server.addr),
        codec,
      );
      // Send all frames first, then read all echoes: TCP glues and splits
      // them as it likes, the framing gives every one back whole.
      const sent: Uint8Array[] = [];
      for (let i = 0; i < FRAMES; i++) {
        const frame = crypto.getRandomValues(
          new Uint8Array(1 + Math.floor(Math.random() * 4000)),
        );
        sent.push(frame);
        await client.send(frame);
      }
      for (const frame of sent) {
        const echo = await client.receive();
        if (
          echo === null || echo.length !== frame.length ||
          !echo.every((b, i) => b === frame[i])
        ) {
          throw new Error("An echoed frame differs from the one sent");
        }
        bytes += frame.length;
      }
    }));
    const ms = performance.now() - started;
    return [
      `${CLIENTS * FRAMES} frames (${
        (bytes / 1024).toFixed(0)
      } KiB) echoed intact over ${CLIENTS} concurrent connections in ${
        ms.toFixed(0)
      } ms`,
    ];
  },
};
