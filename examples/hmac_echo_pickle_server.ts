// The HMAC echo server for Python clients: the same authenticated echo as
// hmac_echo_server.ts, but it speaks Python's whole
// multiprocessing.connection protocol, so an unmodified Python
// `Client(address, authkey=key)` can `send()` any picklable value of
// plain data (dicts, lists, tuples, bytes, big ints, floats, sets,
// datetimes...) and `recv()` it back. The Listener runs Python's
// challenge/response handshake (HMAC-SHA256, or HMAC-MD5 for Python 3.11)
// before reading a single message; values are decoded with weft's safe
// unpickler (nothing named in a pickle is imported or run), echoed back
// and logged with their JavaScript type.
//
//   deno run --allow-net=127.0.0.1 --allow-read=echo.key --allow-write=echo.key \
//     examples/hmac_echo_pickle_server.ts --key-file echo.key [--port 9005]
//
// The key file holds hex bytes; if it does not exist the server writes 32
// random bytes there (mode 0600). Partner program (any Python 3.8+):
//   python3 examples/python_peer/echo_client.py --key-file echo.key --port 9005
// Prints "pickle echo server listening on 127.0.0.1:PORT" once ready.

import { type Connection, Listener, UnpicklingError } from "../ipc/mod.ts";
import { serveNumbered, untilHangup } from "./_listener.ts";
import { keyFileOption } from "./_secret.ts";
import { netArgs } from "./_tutorial.ts";

const { values } = netArgs(9005, {
  "key-file": { type: "string" },
});
const authkey = await keyFileOption(
  "hmac_echo_pickle_server.ts",
  values["key-file"],
  true,
);

async function echo(conn: Connection, id: number): Promise<void> {
  console.log(`client ${id} authenticated`);
  await untilHangup(conn, id, async () => {
    while (true) {
      try {
        const value = await conn.recv();
        console.log(
          `client ${id}: ${
            Deno.inspect(value, { compact: true, breakLength: Infinity })
          }`,
        );
        await conn.send(value);
      } catch (error) {
        if (!(error instanceof UnpicklingError)) throw error;
        // A refused pickle was still one whole message: the connection goes on.
        console.log(`client ${id}: refused: ${error.message}`);
      }
    }
  });
}

using listener = new Listener({
  address: { hostname: values.hostname, port: Number(values.port) },
  authkey,
  serializer: "pickle",
  handshakeTimeout: 5_000,
  onHandshakeError: (error) =>
    console.log(`refused a client: ${error.message}`),
});
await serveNumbered(listener, "pickle echo server", echo);
