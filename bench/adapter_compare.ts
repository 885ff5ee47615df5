// Broadcast across a fleet on one Redis: 3 weft nodes (redisAdapter) vs
// 3 socket.io 4.8 nodes (@socket.io/redis-adapter 8.3, run by Deno's npm
// support), same Redis, same run, same clients. N clients (default 1000)
// spread evenly over the 3 nodes join room "all"; node 0 emits M events
// (default 200) to the room; we time until every client has every event.
// The socket.io nodes run under real Node.js when `node` is on PATH (their
// node_modules are made in a temporary folder by `deno install` from Deno's
// npm cache), else under Deno's npm support.
// Reported: deliveries/s = N × M / seconds, and the weft / socket.io ratio.
//
//   deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run --allow-env --allow-sys \
//     bench/adapter_compare.ts [--clients 1000] [--messages 200] [--rounds 2]
//
// Clients are minimal raw Engine.IO/Socket.IO WebSocket clients in this
// process (the same code for both fleets, so the client side costs both the
// same). Needs redis-server on PATH. Timing is noisy on a shared machine:
// compare the ratio, not the absolute numbers.
import { parseArgs } from "node:util";

const SELF = new URL(import.meta.url).pathname;

// ---------------------------------------------------------------- nodes

async function weftNode(redisUrl: string): Promise<void> {
  const { serveEvents } = await import("../net/mod.ts");
  const { redisAdapter } = await import("../cluster/mod.ts");
  const server = serveEvents({
    adapter: redisAdapter({ url: redisUrl }),
    maxConnections: 100_000,
  });
  server.on("connect", (sid: string, _env: unknown, auth: unknown) => {
    for (const room of (auth as { rooms?: string[] })?.rooms ?? []) {
      server.enterRoom(sid, room);
    }
  });
  // deno-lint-ignore no-explicit-any
  await (server.of("/").adapter as any).ready;
  await control(server.url, (m) => {
    for (let i = 0; i < m; i++) server.emit("tick", i, { room: "all" });
  }, () => server.shutdown());
}

async function sioNode(redisUrl: string): Promise<void> {
  const { createServer } = await import("node:http");
  const { Server } = await import("npm:socket.io@4.8.1");
  const { createAdapter } = await import("npm:@socket.io/redis-adapter@8.3.0");
  const { createClient } = await import("npm:redis@6.3.1");
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const http = createServer();
  const io = new Server(http, { adapter: createAdapter(pub, sub) });
  io.on("connection", (socket) => {
    const rooms = (socket.handshake.auth as { rooms?: string[] }).rooms ?? [];
    for (const room of rooms) socket.join(room);
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const port = (http.address() as { port: number }).port;
  await control(`http://127.0.0.1:${port}`, (m) => {
    for (let i = 0; i < m; i++) io.to("all").emit("tick", i);
  }, async () => {
    io.close();
    await Promise.allSettled([pub.close(), sub.close()]);
  });
}

/** Prints the URL, then runs "burst M" lines from stdin until it closes. */
async function control(
  url: string,
  burst: (m: number) => void,
  stop: () => Promise<unknown>,
): Promise<void> {
  console.log(`url ${url}`);
  let buf = "";
  for await (
    const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())
  ) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const [cmd, arg] = buf.slice(0, i).split(" ");
      buf = buf.slice(i + 1);
      if (cmd === "burst") burst(Number(arg));
    }
  }
  await stop();
  Deno.exit(0);
}

// ---------------------------------------------------------------- clients

/** A raw Socket.IO client over WebSocket that counts "tick" events. */
class RawClient {
  ws: WebSocket;
  ticks = 0;
  onTick: (() => void) | undefined;
  ready: Promise<void>;

  constructor(base: string) {
    this.ws = new WebSocket(
      base.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
    );
    let ok!: () => void;
    let fail!: (e: unknown) => void;
    this.ready = new Promise((res, rej) => {
      ok = res;
      fail = rej;
    });
    this.ws.onerror = (e) => fail(e);
    this.ws.onmessage = (e) => {
      const text = String(e.data);
      if (text.startsWith("42")) {
        this.ticks++;
        this.onTick?.();
      } else if (text === "2") this.ws.send("3");
      else if (text.startsWith("0")) this.ws.send('40{"rooms":["all"]}');
      else if (text.startsWith("40")) ok();
    };
  }
}

interface Node {
  child: Deno.ChildProcess;
  url: string;
  writer: WritableStreamDefaultWriter<Uint8Array>;
}

// The socket.io node for real Node.js (same code as sioNode above).
const NODE_PEER = `
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
const pub = createClient({ url: process.argv[2] });
const sub = pub.duplicate();
await Promise.all([pub.connect(), sub.connect()]);
const http = createServer();
const io = new Server(http, { adapter: createAdapter(pub, sub) });
io.on("connection", (socket) => {
  for (const room of socket.handshake.auth.rooms ?? []) socket.join(room);
});
await new Promise((r) => http.listen(0, "127.0.0.1", r));
console.log("url http://127.0.0.1:" + http.address().port);
let buf = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buf += chunk;
  let i;
  while ((i = buf.indexOf("\\n")) >= 0) {
    const [cmd, arg] = buf.slice(0, i).split(" ");
    buf = buf.slice(i + 1);
    if (cmd === "burst") for (let k = 0; k < Number(arg); k++) io.to("all").emit("tick", k);
  }
});
process.stdin.on("end", async () => {
  io.close();
  await Promise.allSettled([pub.close(), sub.close()]);
  process.exit(0);
});
`;

/**
 * A folder with node_modules for the Node.js peer (made by `deno install`
 * from Deno's npm cache), or undefined when `node` is not on PATH.
 */
async function nodePeerDir(): Promise<string | undefined> {
  try {
    const v = await new Deno.Command("node", { args: ["--version"] }).output();
    if (!v.success) return undefined;
  } catch {
    return undefined;
  }
  const dir = await Deno.makeTempDir({ prefix: "weft-sio-peer-" });
  await Deno.writeTextFile(
    `${dir}/package.json`,
    JSON.stringify({
      name: "sio-peer",
      private: true,
      type: "module",
      dependencies: {
        "socket.io": "4.8.1",
        "@socket.io/redis-adapter": "8.3.0",
        "redis": "6.3.1",
      },
    }),
  );
  await Deno.writeTextFile(`${dir}/peer.mjs`, NODE_PEER);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["install", "--node-modules-dir=auto"],
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    await Deno.remove(dir, { recursive: true });
    return undefined;
  }
  return dir;
}

let peerDir: string | undefined;

async function startNode(kind: string, redisUrl: string): Promise<Node> {
  const command = kind === "sio" && peerDir
    ? new Deno.Command("node", {
      args: [`${peerDir}/peer.mjs`, redisUrl],
      cwd: peerDir,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    })
    : undefined;
  const child = command ? command.spawn() : new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      SELF,
      "--node",
      kind,
      "--redis",
      redisUrl,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${kind} node exited`);
    text += value;
  }
  reader.releaseLock();
  return {
    child,
    url: text.trim().split(" ")[1],
    writer: child.stdin.getWriter(),
  };
}

async function stopNode(node: Node): Promise<void> {
  await node.writer.close().catch(() => {});
  const timer = setTimeout(() => node.child.kill("SIGKILL"), 5000);
  await node.child.status;
  clearTimeout(timer);
  await node.child.stdout.cancel().catch(() => {});
}

async function measure(
  kind: string,
  redisUrl: string,
  clients: number,
  messages: number,
): Promise<number> {
  const nodes = await Promise.all(
    [0, 1, 2].map(() => startNode(kind, redisUrl)),
  );
  const raw: RawClient[] = [];
  try {
    for (let i = 0; i < clients; i++) {
      raw.push(new RawClient(nodes[i % 3].url));
      if (i % 100 === 99) {
        await Promise.all(raw.slice(-100).map((c) => c.ready));
      }
    }
    await Promise.all(raw.map((c) => c.ready));
    let pending = clients;
    const done = new Promise<void>((resolve) => {
      for (const c of raw) {
        c.onTick = () => {
          if (c.ticks === messages && --pending === 0) resolve();
        };
      }
    });
    const t0 = performance.now();
    await nodes[0].writer.write(
      new TextEncoder().encode(`burst ${messages}\n`),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      done,
      new Promise((_, reject) =>
        timer = setTimeout(
          () => reject(new Error(`${kind}: deliveries incomplete after 120 s`)),
          120_000,
        )
      ),
    ]).finally(() => clearTimeout(timer));
    const seconds = (performance.now() - t0) / 1000;
    return clients * messages / seconds;
  } finally {
    for (const c of raw) c.ws.close();
    await Promise.all(nodes.map(stopNode));
  }
}

// ---------------------------------------------------------------- main

const args = parseArgs({
  args: Deno.args,
  options: {
    node: { type: "string" },
    redis: { type: "string" },
    clients: { type: "string", default: "1000" },
    messages: { type: "string", default: "200" },
    rounds: { type: "string", default: "2" },
  },
});

if (args.values.node === "weft") await weftNode(args.values.redis!);
else if (args.values.node === "sio") await sioNode(args.values.redis!);
else {
  const { RedisServer } = await import("../cluster/mod.ts");
  const clients = Number(args.values.clients);
  const messages = Number(args.values.messages);
  const rounds = Number(args.values.rounds);
  const redis = await RedisServer.start();
  peerDir = await nodePeerDir();
  const runtime = peerDir
    ? `Node.js ${
      new TextDecoder().decode(
        (await new Deno.Command("node", { args: ["--version"] }).output())
          .stdout,
      ).trim()
    }`
    : "Deno's npm support (node not found)";
  console.log(`socket.io nodes run under ${runtime}`);
  try {
    const results: Record<string, number[]> = { weft: [], sio: [] };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? ["weft", "sio"] : ["sio", "weft"];
      for (const kind of order) {
        const rate = await measure(kind, redis.url, clients, messages);
        results[kind].push(rate);
        console.log(
          `round ${r + 1} ${kind === "weft" ? "weft     " : "socket.io"}: ${
            Math.round(rate).toLocaleString("en-US")
          } deliveries/s`,
        );
      }
    }
    const best = (xs: number[]) => Math.max(...xs);
    console.log(
      `\n${clients} clients over 3 nodes, ${messages} broadcasts from node 0 (best of ${rounds})`,
    );
    console.log(`| fleet | deliveries/s |\n| --- | --- |`);
    console.log(
      `| 3 weft nodes (redisAdapter) | ${
        Math.round(best(results.weft)).toLocaleString("en-US")
      } |`,
    );
    console.log(
      `| 3 socket.io 4.8.1 nodes (@socket.io/redis-adapter 8.3.0, ${runtime}) | ${
        Math.round(best(results.sio)).toLocaleString("en-US")
      } |`,
    );
    console.log(
      `ratio weft / socket.io: ${
        (best(results.weft) / best(results.sio)).toFixed(2)
      }×`,
    );
  } finally {
    await redis.stop();
    if (peerDir) await Deno.remove(peerDir, { recursive: true });
  }
}
