/**
 * Entry point of a manager server process (private), started by
 * `Manager.start()`.
 *
 * | step | parent                                             | this process                                   |
 * | ---- | -------------------------------------------------- | ---------------------------------------------- |
 * | 1    | writes one JSON line to stdin: authkey (hex), host, port | reads it (stdin is private to the two)   |
 * | 2    |                                                    | listens, writes `{"address": ...}` to stdout   |
 * | 3    | connects with the authkey                          | serves                                         |
 * | 4    | calls `shutdown`, or closes stdin, or dies         | stdin EOF or `shutdown`: closes all and exits  |
 *
 * @module
 */

import { fromHex, listenManager } from "./_manager_net.ts";
import { ManagerServer } from "./_manager_server.ts";

interface Config {
  authkey: string;
  hostname: string;
  port: number;
  debug?: boolean;
}

async function readLine(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<{ line: string; rest: Uint8Array }> {
  let buffered = new Uint8Array(0);
  while (true) {
    const newline = buffered.indexOf(10);
    if (newline >= 0) {
      return {
        line: new TextDecoder().decode(buffered.subarray(0, newline)),
        rest: buffered.subarray(newline + 1),
      };
    }
    const { value, done } = await reader.read();
    if (done) {
      throw new Error("Cannot start manager: no configuration on stdin");
    }
    const joined = new Uint8Array(buffered.length + value.length);
    joined.set(buffered);
    joined.set(value, buffered.length);
    buffered = joined;
  }
}

async function main(): Promise<void> {
  const reader = Deno.stdin.readable.getReader();
  const { line } = await readLine(reader);
  const config = JSON.parse(line) as Config;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => stop = resolve);
  const server = new ManagerServer({
    onShutdown: () => stop(),
    debug: config.debug === true,
  });
  const listener = listenManager(
    server,
    { hostname: config.hostname, port: config.port },
    fromHex(config.authkey),
  );
  await Deno.stdout.write(
    new TextEncoder().encode(
      JSON.stringify({ address: listener.address }) + "\n",
    ),
  );
  // The parent holds our stdin open; EOF means it is gone or done with us.
  (async () => {
    try {
      while (!(await reader.read()).done) {
        // ignore anything else
      }
    } catch {
      // broken pipe: same as EOF
    }
    stop();
  })();
  await stopped;
  listener.close();
  server.close();
  Deno.exit(0);
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(error);
    Deno.exit(1);
  });
}
