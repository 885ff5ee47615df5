// weft serves Python objects: a Listener that speaks Python's
// multiprocessing.connection (authkey handshake, then pickled send/recv),
// so a plain Python `Client(...)` with `send(obj)` / `recv()` talks to it.
// For each dict a client sends, the server answers with how every value
// arrived in JavaScript (the value mapping of `loads`) and the values
// themselves, re-pickled, so the client can check the round trip. Nothing
// in a pickle can make the server import or run anything: a hostile one is
// refused with an UnpicklingError and the connection goes on.
//
//   deno run --allow-net=127.0.0.1 --allow-read=peer.key --allow-write=peer.key \
//     examples/python_peer/server.ts --key-file peer.key [--port 9014] [--once]
//
// The key file holds hex bytes (32 random ones are written if it is
// missing); the secret never appears on a command line. Partner program:
//   python3 examples/python_peer/client.py --key-file peer.key --port 9014
// Prints "python peer server listening on 127.0.0.1:PORT" once ready;
// --once exits after the first client.

import { parseArgs } from "node:util";
import {
  type Connection,
  Listener,
  PyByteArray,
  PyComplex,
  PyDecimal,
  PyFrozenSet,
  Tuple,
  tuple,
  UnpicklingError,
} from "../../ipc/mod.ts";
import { loadKey } from "../_secret.ts";
import { serveNumbered, untilHangup } from "../_listener.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "9014" },
    "key-file": { type: "string" },
    once: { type: "boolean", default: false },
  },
});
if (!values["key-file"]) {
  console.error("Usage: server.ts --key-file FILE [--port N] [--once]");
  Deno.exit(2);
}
const authkey = await loadKey(values["key-file"], true);

/** The JavaScript type a decoded Python value arrived as. */
function jsType(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  for (
    const [cls, name] of [
      [Tuple, "Tuple"],
      [Array, "Array"],
      [Uint8Array, "Uint8Array"],
      [PyByteArray, "PyByteArray"],
      [PyFrozenSet, "PyFrozenSet"],
      [Set, "Set"],
      [Map, "Map"],
      [PyDecimal, "PyDecimal"],
      [PyComplex, "PyComplex"],
      [Temporal.ZonedDateTime, "Temporal.ZonedDateTime"],
      [Temporal.PlainDateTime, "Temporal.PlainDateTime"],
      [Temporal.PlainDate, "Temporal.PlainDate"],
      [Temporal.Duration, "Temporal.Duration"],
    ] as const
  ) {
    if (value instanceof cls) return name;
  }
  return "object";
}

async function serve(conn: Connection, id: number): Promise<void> {
  console.log(`client ${id} authenticated`);
  await untilHangup(conn, id, async () => {
    while (true) {
      let message: unknown;
      try {
        message = await conn.recv();
      } catch (error) {
        if (!(error instanceof UnpicklingError)) throw error;
        console.log(`client ${id}: refused a pickle: ${error.message}`);
        await conn.send(tuple("refused", error.message));
        continue;
      }
      if (message === "bye") break;
      const entries = message instanceof Map
        ? [...message]
        : Object.entries(message as Record<string, unknown>);
      const types = new Map(entries.map(([k, v]) => [k, jsType(v)]));
      await conn.send(tuple("ok", types, message));
    }
  });
}

using listener = new Listener({
  address: { hostname: "127.0.0.1", port: Number(values.port) },
  authkey,
  serializer: "pickle",
  onHandshakeError: (error) =>
    console.log(`refused a client: ${error.message}`),
});
await serveNumbered(listener, "python peer server", serve, values.once);
