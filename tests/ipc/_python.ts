/**
 * Python peers for the interop tests (not published). Scripts run with
 * `python -c`; the authkey always travels on stdin, never argv or env.
 */
import { findPython } from "../_helpers.ts";

/** Interpreters by version; missing ones are `undefined`. */
export const PYTHONS: Record<string, string | undefined> = {
  "3.11": findPython("3.11"),
  "3.12": findPython("3.12"),
  "3.13": findPython("3.13"),
};

/**
 * Client: reads a JSON line {port, key (hex), sizes} from stdin, connects,
 * sends each message and expects it echoed intact, then prints "ok".
 * Prints "auth-failed" on AuthenticationError.
 */
export const PY_CLIENT = `
import sys, json, hashlib
from multiprocessing.connection import Client
from multiprocessing import AuthenticationError
cfg = json.loads(sys.stdin.readline())
key = bytes.fromhex(cfg["key"])
try:
    c = Client(("127.0.0.1", cfg["port"]), authkey=key)
except AuthenticationError:
    print("auth-failed", flush=True)
    sys.exit(0)
for n in cfg["sizes"]:
    data = bytes((i * 7 + n) % 251 for i in range(n)) if n < 70000 else (bytes(range(256)) * (n // 256 + 1))[:n]
    c.send_bytes(data)
    back = c.recv_bytes()
    assert back == data, "mismatch for %d" % n
c.close()
print("ok", flush=True)
`;

/**
 * Server: reads a hex key line from stdin, listens on 127.0.0.1:0, prints
 * the port, accepts one client and echoes bytes messages until EOF, then
 * prints "done". Prints "auth-failed" on AuthenticationError.
 */
export const PY_SERVER = `
import sys
from multiprocessing.connection import Listener
from multiprocessing import AuthenticationError
key = bytes.fromhex(sys.stdin.readline().strip())
with Listener(("127.0.0.1", 0), authkey=key) as l:
    print(l.address[1], flush=True)
    try:
        c = l.accept()
    except AuthenticationError:
        print("auth-failed", flush=True)
        sys.exit(0)
    try:
        while True:
            c.send_bytes(c.recv_bytes())
    except EOFError:
        pass
    print("done", flush=True)
`;

/** Hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The deterministic payload PY_CLIENT sends for `n` bytes. */
export function payload(n: number): Uint8Array {
  const out = new Uint8Array(n);
  if (n < 70000) { for (let i = 0; i < n; i++) out[i] = (i * 7 + n) % 251; }
  else for (let i = 0; i < n; i++) out[i] = i % 256;
  return out;
}

/** A spawned Python with line-oriented stdout. */
export class PythonPeer {
  #child: Deno.ChildProcess;
  #lines: AsyncIterator<string>;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;

  constructor(python: string, script: string) {
    this.#child = new Deno.Command(python, {
      args: ["-c", script],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#lines = this.#child.stdout
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(splitLines())[Symbol.asyncIterator]();
  }

  async writeLine(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(line + "\n"));
  }

  async readLine(): Promise<string> {
    const next = await this.#lines.next();
    if (next.done) throw new Error("python exited without a line");
    return next.value;
  }

  /** Closes stdin, drains output, waits; returns exit code and stderr. */
  async finish(): Promise<{ code: number; stderr: string; rest: string[] }> {
    await this.#stdin.close().catch(() => {});
    const rest: string[] = [];
    while (true) {
      const next = await this.#lines.next();
      if (next.done) break;
      rest.push(next.value);
    }
    const stderr = await new Response(this.#child.stderr).text();
    const status = await this.#child.status;
    return { code: status.code, stderr, rest };
  }

  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }
}

function splitLines(): TransformStream<string, string> {
  let buffer = "";
  return new TransformStream({
    transform(chunk, controller) {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const p of parts) controller.enqueue(p);
    },
    flush(controller) {
      if (buffer) controller.enqueue(buffer);
    },
  });
}
