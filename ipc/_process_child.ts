/**
 * Bootstrap of a `Process` child (private; run by `Process.start()`).
 *
 * 1. Reads one line from stdin: `{"port": n, "key": "<hex>"}`, the parent's
 *    control listener on 127.0.0.1 and a random one-time authkey (stdin,
 *    never argv or env). Stdin is not used afterwards.
 * 2. Connects and runs the handshake with that key (answer, then challenge).
 * 3. Receives `{ module, fn, args, name, daemon }` (V8-serialized), imports
 *    the modules named by `"@@module"` in shared handles, then the module,
 *    revives the arguments and sends `{ type: "started" }`.
 * 4. Runs the function; sends `{ type: "done" }` and exits 0, or sends
 *    `{ type: "error", name, message, stack }`, prints the stack to stderr
 *    and exits 1.
 *
 * A daemon child exits (code 1) as soon as the control connection reaches
 * EOF: the parent closed it or died.
 *
 * @module
 */
import { answerChallenge, deliverChallenge } from "../auth/handshake.ts";
import { importRevivers, reviveValue } from "../concurrency/_share.ts";
import { Connection } from "./connection.ts";

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
  const socket = await Deno.connect({ hostname: "127.0.0.1", port });
  const control = Connection.fromConn(socket);
  await answerChallenge(control, key, { allowLegacyMd5: false });
  await deliverChallenge(control, key, { allowLegacyMd5: false });
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
    const mod = await import(init.module);
    const found = mod[init.fn];
    if (typeof found !== "function") {
      throw new TypeError(
        `Cannot run process: "${init.fn}" is not an exported function of ${init.module}`,
      );
    }
    fn = found;
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
  await control.send({
    type,
    name: e.name,
    message: e.message,
    stack: e.stack ?? "",
  }).catch(() => {});
  control.close();
}

if (import.meta.main) await main();
