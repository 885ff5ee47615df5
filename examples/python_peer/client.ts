// weft as a client of a plain Python multiprocessing.connection Listener:
// `Client(..., { authkey, serializer: "pickle" })`, then `send`/`recv` of
// JavaScript values that Python receives as its own objects (big ints,
// tuples, sets, datetimes...) and answers with.
//
//   deno run --allow-net=127.0.0.1 --allow-read=peer.key \
//     examples/python_peer/client.ts --key-file peer.key [--port 9015]
//
// Partner program (start it first, with the same key file):
//   python3 examples/python_peer/server.py --key-file peer.key --port 9015

import { parseArgs } from "node:util";
import { Client, PyDecimal, PyFloat, tuple } from "../../ipc/mod.ts";
import { loadKey } from "../_secret.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "9015" },
    "key-file": { type: "string" },
  },
});
if (!values["key-file"]) {
  console.error("Usage: client.ts --key-file FILE [--port N]");
  Deno.exit(2);
}
const authkey = await loadKey(values["key-file"]);

using conn = await Client(
  { hostname: "127.0.0.1", port: Number(values.port) },
  { authkey, serializer: "pickle" },
);
const ask = async (op: string, arg: unknown) => {
  await conn.send(tuple(op, arg));
  return await conn.recv();
};
console.log("sum of big ints:", await ask("sum", [2n ** 64n, 2n ** 64n, 1]));
console.log(
  "tomorrow:",
  String(
    await ask(
      "tomorrow",
      Temporal.ZonedDateTime.from("2026-12-31T23:30:00+01:00[Europe/Paris]"),
    ),
  ),
);
console.log("sorted set:", await ask("sorted", new Set([3, 1, 2])));
console.log(
  "python types:",
  await ask("types", {
    int: 1,
    float: new PyFloat(1),
    big: 2n ** 70n,
    text: "x",
    bytes: new Uint8Array([1]),
    tuple: tuple(1, 2),
    list: [1],
    set: new Set([1]),
    map: new Map([[1, "a"]]),
    when: new Date(0),
    decimal: new PyDecimal("0.1"),
  }),
);
await conn.send("bye");
