/**
 * Bootstrap of a `Process` child (private; run by `Process.start()`).
 *
 * 1. Reads one line from stdin: `{"port": n, "key": "<hex>"}`, the parent's
 *    control listener on 127.0.0.1 and a random one-time authkey (stdin,
 *    never argv or env). Stdin is not used afterwards.
 * 2. Meets the parent there (`_relay.ts` `meet`: connect, then `auth`'s
 *    `clientHandshake` with that key).
 * 3. Receives `{ module, fn, args, name, daemon }` (V8-serialized), imports
 *    the modules named by `"@@module"` in shared handles, then the module,
 *    revives the arguments and sends `{ type: "started" }`.
 * 4. Runs the function; sends `{ type: "done" }` and exits 0, or sends
 *    `{ type: "error", error: { name, message, stack } }` (run_export's
 *    `errorToWire`), prints the stack to stderr
 *    and exits 1.
 *
 * A daemon child exits (code 1) as soon as the control connection reaches
 * EOF: the parent closed it or died.
 *
 * @module
 */
import { importRevivers, reviveValue } from "../_internal/share.ts";
import { Connection } from "./connection.ts";
import { meet } from "./_relay.ts";
import { errorToWire, loadExport } from "../_internal/run_export.ts";

interface Init {
  module: string;
  fn: string;
  args: unknown[];
  name: string;
  daemon: boolean;
}

async function readLine(): Promise<string> {
  const reader = Deno.stdin.readable.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text.split("\n")[0];
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}

async function main(): Promise<never> {
  const { port, key: hexKey } = JSON.parse(await readLine());
  const key = fromHex(hexKey);
  const socket = await meet("127.0.0.1", port, key);
  const control = new Connection(socket);
  key.fill(0);
  const init = await control.recv<Init>();

  // Watch the control channel: EOF means the parent closed it or died.
  (async () => {
    try {
      while (true) await control.recvBytes();
    } catch {
      if (init.daemon) Deno.exit(1);
    }
  })();
  socket.unref();

  let fn: (...args: unknown[]) => unknown;
  let args: unknown[];
  try {
    // Handles name the module of their type: load what is not loaded yet.
    await importRevivers(init.args);
    fn = await loadExport(init.module, init.fn);
    args = reviveValue(init.args) as unknown[];
  } catch (error) {
    await report(control, init, error, "failed");
    Deno.exit(1);
  }
  await control.send({ type: "started" });
  try {
    await fn(...args);
  } catch (error) {
    await report(control, init, error, "error");
    Deno.exit(1);
  }
  await control.send({ type: "done" }).catch(() => {});
  control.close();
  Deno.exit(0);
}

async function report(
  control: Connection,
  init: Init,
  error: unknown,
  type: "failed" | "error",
): Promise<void> {
  const e = error instanceof Error ? error : new Error(String(error));
  console.error(`Process ${init.name}:\n${e.stack ?? e.message}`);
  await control.send({ type, ...errorToWire(e) }).catch(() => {});
  control.close();
}

if (import.meta.main) await main();
