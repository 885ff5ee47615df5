/**
 * The server process of `Manager.start` (private): what a `Manager` owns
 * (child process, or in-process server and listener), reading the
 * address the child prints, and stopping it.
 *
 * @module
 */

import {
  checkAddress,
  type ManagerAddress,
  type ManagerListener,
} from "./_manager_net.ts";
import type { ManagerServer } from "./_manager_server.ts";

/** What a `Manager` owns and must stop. */
export interface Owned {
  child?: Deno.ChildProcess;
  stdin?: WritableStreamDefaultWriter<Uint8Array>;
  server?: ManagerServer;
  listener?: ManagerListener;
}

const SHUTDOWN_GRACE = 5_000;

/** Reads the `{"address": ...}` line the server process prints. */
export async function readAddress(
  child: Deno.ChildProcess,
  timeout: number,
): Promise<ManagerAddress> {
  const reader = child.stdout.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const line = (async () => {
      let text = "";
      const decoder = new TextDecoder();
      while (!text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error("the server process exited before listening");
        text += decoder.decode(value, { stream: true });
      }
      return text.slice(0, text.indexOf("\n"));
    })();
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no address after ${timeout} ms`)),
        timeout,
      );
    });
    line.catch(() => {});
    const { address } = JSON.parse(await Promise.race([line, deadline]));
    return checkAddress(address, "start manager");
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
    // Nothing else comes on stdout; drop it so the pipe is closed.
    child.stdout.cancel().catch(() => {});
  }
}

/** Closes the child's stdin, waits (then kills) until it exits. */
export async function stopChild(owned: Owned): Promise<void> {
  const { child, stdin } = owned;
  if (child === undefined) return;
  await stdin?.close().catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    child.status.then(() => true),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), SHUTDOWN_GRACE);
    }),
  ]);
  clearTimeout(timer);
  if (!exited) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
  }
}
