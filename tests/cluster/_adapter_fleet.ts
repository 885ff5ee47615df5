// Helpers of the Redis adapter tests: a Node socket.io peer process
// (_adapter_peer.ts), weft nodes with redisAdapter, and official
// socket.io-client clients that record what they receive.
import { io, type Socket } from "npm:socket.io-client@4.8.1";
import { type EventServer, serveEvents } from "../../net/mod.ts";
import { type RedisAdapter, redisAdapter } from "../../cluster/mod.ts";

export type Protocol = "socket.io" | "socket.io-streams";

const PEER = new URL("./_adapter_peer.ts", import.meta.url).pathname;

/** A Node socket.io server with @socket.io/redis-adapter, in a child process. */
export class NodePeer {
  readonly name: string;
  readonly process: Deno.ChildProcess;
  port = 0;
  uid = "";
  #next = 1;
  #waiting = new Map<number, (line: Record<string, unknown>) => void>();
  #ready: Promise<void>;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stderr = "";
  #done: Promise<unknown>;

  constructor(
    redisUrl: string,
    name: string,
    protocol: Protocol = "socket.io",
    requestsTimeout = 1500,
  ) {
    this.name = name;
    const proc = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        "--allow-env",
        "--allow-read",
        "--allow-sys",
        PEER,
        redisUrl,
        name,
        String(requestsTimeout),
        protocol,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.process = proc;
    this.#stdin = proc.stdin.getWriter();
    let ready!: () => void;
    let failed!: (e: Error) => void;
    this.#ready = new Promise((res, rej) => {
      ready = res;
      failed = rej;
    });
    const out = (async () => {
      let buf = "";
      for await (
        const chunk of proc.stdout.pipeThrough(new TextDecoderStream())
      ) {
        buf += chunk;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = JSON.parse(buf.slice(0, i));
          buf = buf.slice(i + 1);
          if (line.ready) {
            this.port = line.ready;
            this.uid = line.uid;
            ready();
          } else this.#waiting.get(line.id)?.(line);
        }
      }
      failed(new Error(`peer ${name} exited: ${this.#stderr}`));
    })();
    const err = (async () => {
      for await (
        const chunk of proc.stderr.pipeThrough(new TextDecoderStream())
      ) {
        if (this.#stderr.length < 20_000) this.#stderr += chunk;
      }
    })();
    this.#done = Promise.all([out, err, proc.status]);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  ready(ms = 30_000): Promise<void> {
    let timer: ReturnType<typeof setTimeout>;
    return Promise.race([
      this.#ready,
      new Promise<never>((_, rej) =>
        timer = setTimeout(
          () => rej(new Error(`peer ${this.name} not ready: ${this.#stderr}`)),
          ms,
        )
      ),
    ]).finally(() => clearTimeout(timer));
  }

  /** Runs a command in the peer; resolves with its result (rejects with its error). */
  async run(cmd: Record<string, unknown>, ms = 10_000): Promise<unknown> {
    const id = this.#next++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      this.#waiting.set(id, resolve);
      timer = setTimeout(
        () => reject(new Error(`peer ${this.name}: no answer to ${cmd.op}`)),
        ms,
      );
    });
    await this.#stdin.write(
      new TextEncoder().encode(JSON.stringify({ id, ...cmd }) + "\n"),
    );
    try {
      const line = await answer;
      if (line.error) throw new Error(String(line.error));
      return line.result;
    } finally {
      clearTimeout(timer);
      this.#waiting.delete(id);
    }
  }

  kill(signal: Deno.Signal): void {
    try {
      this.process.kill(signal);
    } catch {
      // already gone
    }
  }

  async stop(): Promise<void> {
    await this.#stdin.close().catch(() => {});
    const timer = setTimeout(() => this.kill("SIGKILL"), 5000);
    await this.#done.catch(() => {});
    clearTimeout(timer);
  }
}

/** A weft node: serveEvents + redisAdapter; sockets join `auth.rooms`. */
export async function weftNode(
  redisUrl: string,
  name: string,
  protocol: Protocol = "socket.io",
  requestsTimeout = 1500,
): Promise<EventServer> {
  const server = serveEvents({
    adapter: redisAdapter({ url: redisUrl, requestsTimeout, protocol }),
  });
  server.on("connect", (sid, _environ, auth) => {
    server.getSession(sid).node = name;
    const rooms = (auth as { rooms?: string[] })?.rooms ?? [];
    for (const room of rooms) server.enterRoom(sid, room);
  });
  server.of("/").onServerSideEmit(
    "hello",
    (arg: unknown) => `${name} says ${arg}`,
  );
  await (server.of("/").adapter as RedisAdapter).ready;
  return server;
}

/** An official socket.io client that records every "news" message. */
export class Client {
  readonly socket: Socket;
  readonly label: string;
  readonly got: string[] = [];
  #watchers: { test: () => boolean; resolve: () => void }[] = [];

  constructor(url: string, label: string, rooms: string[]) {
    this.label = label;
    this.socket = io(url, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      auth: { rooms },
    });
    this.socket.on("news", (msg: string) => {
      this.got.push(msg);
      for (const w of [...this.#watchers]) {
        if (w.test()) {
          this.#watchers.splice(this.#watchers.indexOf(w), 1);
          w.resolve();
        }
      }
    });
    this.socket.on("ask", (_q: unknown, cb: (a: string) => void) => cb(label));
  }

  get id(): string {
    return this.socket.id!;
  }

  connected(ms = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.label}: no connect`)),
        ms,
      );
      this.socket.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.once("connect_error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  /** Resolves once `msg` was received (rejects after `ms`). */
  received(msg: string, ms = 10_000): Promise<void> {
    if (this.got.includes(msg)) return Promise.resolve();
    let timer: ReturnType<typeof setTimeout>;
    return new Promise<void>((resolve, reject) => {
      const w = { test: () => this.got.includes(msg), resolve };
      this.#watchers.push(w);
      timer = setTimeout(
        () =>
          reject(
            new Error(`${this.label}: never got ${msg}; got ${this.got}`),
          ),
        ms,
      );
    }).finally(() => clearTimeout(timer));
  }

  close(): void {
    this.socket.close();
  }
}
