/**
 * Micro-benchmarks of weft's framing (no sockets): decoding 1000 glued
 * frames from one buffer, and from 1000-byte reads.
 *
 *   deno bench bench/net_bench.ts
 */
import {
  type ByteStream,
  DelimiterCodec,
  type FrameCodec,
  FramedConnection,
  LengthPrefixCodec,
} from "../net/mod.ts";

function memoryStream(wire: Uint8Array, readSize: number): ByteStream {
  let offset = 0;
  return {
    read(p) {
      if (offset >= wire.length) return Promise.resolve(null);
      const n = Math.min(p.length, readSize, wire.length - offset);
      p.set(wire.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
    write: (p) => Promise.resolve(p.length),
    close() {},
  };
}

function wireOf(codec: FrameCodec, size: number): Uint8Array {
  const frame = codec.encode(new Uint8Array(size).fill(97));
  const wire = new Uint8Array(frame.length * 1000);
  for (let i = 0; i < 1000; i++) wire.set(frame, i * frame.length);
  return wire;
}

for (
  const [name, codec] of [
    ["LengthPrefixCodec", new LengthPrefixCodec()],
    ["DelimiterCodec", new DelimiterCodec()],
  ] as const
) {
  for (const size of [100, 4096]) {
    const wire = wireOf(codec, size);
    for (const readSize of [1 << 20, 1000]) {
      for (const reuseBuffer of [false, true]) {
        Deno.bench({
          name: `${name}: 1000 x ${size} B frames, ${
            readSize === 1000 ? "1000 B reads" : "one read"
          }${reuseBuffer ? ", reuseBuffer" : ""}`,
          group: `${name} ${size} B`,
          async fn() {
            const framed = new FramedConnection(
              memoryStream(wire, readSize),
              codec,
              { reuseBuffer },
            );
            let count = 0;
            for await (const _ of framed) count++;
            if (count !== 1000) throw new Error(`decoded ${count} frames`);
          },
        });
      }
    }
  }
}
