// StreamTransport's read sizing: while exactly one answer is due it reads
// just the size of the peer's last lone frame (so the runtime keeps the
// socket marked readable, see `_stream_transport.ts`); otherwise all the
// room it has. Whatever the sizes, frames arrive whole and in order.
import assert from "node:assert/strict";
import { withTimeout } from "../_helpers.ts";
import { StreamTransport } from "../../ipc/_stream_transport.ts";

/** A TCP connection that records the length of every read it is asked for. */
class RecordingConn {
  reads: number[] = [];
  constructor(readonly conn: Deno.TcpConn) {}
  read(p: Uint8Array): Promise<number | null> {
    this.reads.push(p.length);
    return this.conn.read(p);
  }
  write(p: Uint8Array): Promise<number> {
    return this.conn.write(p);
  }
  close(): void {
    this.conn.close();
  }
  setNoDelay(on: boolean): void {
    this.conn.setNoDelay(on);
  }
}

function bytes(size: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 7 + seed) & 0xff);
}

Deno.test("StreamTransport: one answer due reads the last lone frame's size; more in flight, a size change or a burst still arrive whole and in order", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const raw = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  const recording = new RecordingConn(raw);
  const ours = new StreamTransport(recording as unknown as Deno.Conn);
  const peer = new StreamTransport(await accepted);
  const MAX = 1 << 20;
  const exchange = async (size: number, replySizes: number[], seed: number) => {
    await ours.writeFrame(bytes(size, seed));
    const request = await peer.readFrame(MAX);
    assert.deepEqual(request, bytes(size, seed));
    for (const [i, n] of replySizes.entries()) {
      await peer.writeFrame(bytes(n, seed + i));
    }
    for (const [i, n] of replySizes.entries()) {
      assert.deepEqual(await ours.readFrame(MAX), bytes(n, seed + i));
    }
  };
  try {
    await withTimeout(
      (async () => {
        await exchange(20, [20], 1); // first read: all the room (no guess yet)
        assert.ok(recording.reads.at(-1)! > 1000);
        const before = recording.reads.length;
        await exchange(20, [20], 2); // one answer due: 4 + 20 bytes
        assert.deepEqual(recording.reads.slice(before), [24]);
        // the answer grows past the guess: read in two, whole
        await exchange(20, [1000], 3);
        // and shrinks
        await exchange(20, [20], 4);
        await exchange(20, [5], 5);
        // two requests in flight: reads take all the room again
        await exchange(20, [20], 6); // read in two: no guess after it
        await exchange(20, [20], 60); // all the room, alone: guess 24
        const beforeLone = recording.reads.length;
        await exchange(20, [20], 61);
        assert.deepEqual(recording.reads.slice(beforeLone), [24]);
        await ours.writeFrame(bytes(20, 7));
        const beforeTwo = recording.reads.length;
        await ours.writeFrame(bytes(20, 8));
        for (const seed of [7, 8]) {
          assert.deepEqual(await peer.readFrame(MAX), bytes(20, seed));
          await peer.writeFrame(bytes(20, seed));
        }
        for (const seed of [7, 8]) {
          assert.deepEqual(await ours.readFrame(MAX), bytes(20, seed));
        }
        assert.ok(recording.reads[beforeTwo] > 1000, `${recording.reads}`);
        // a burst of 50 answers to one request, after a guessed read
        await exchange(20, [20], 9);
        await exchange(20, Array.from({ length: 50 }, (_, i) => 20 + i), 10);
        // and sequential exchanges still work after it
        for (let i = 0; i < 20; i++) await exchange(20 + i, [30], 100 + i);
      })(),
      15_000,
      "read sizing",
    );
  } finally {
    ours.close();
    peer.close();
  }
});
