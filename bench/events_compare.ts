/**
 * weft's event server vs peers, in one run, printing ratios.
 *
 *   deno run --allow-net=127.0.0.1,localhost --allow-read --allow-write --allow-run --allow-env --allow-sys bench/events_compare.ts [--clients=100] [--broadcasts=2000] [--round-trips=5000] [--runs=3] [--baseline=DIR]
 *
 * `--baseline=DIR`: also runs weft from another copy of the tree (e.g.
 * `git archive HEAD | tar -x -C DIR`), interleaved with this one, for a
 * before/after in the same run.
 *
 * 1. Fan-out: one room of 100 clients; the server emits `broadcasts` small
 *    JSON events to the room as fast as it can; the clock stops when every
 *    client has every event. Reported as deliveries/s (events received,
 *    summed over clients) and broadcasts/s.
 * 2. One-to-one round trips: one client emits an event with an
 *    acknowledgement and awaits the answer, `round-trips` times in a row.
 *
 * Each peer runs `runs` times, interleaved (weft, raw, socket.io, weft, ...),
 * and the best of each metric is kept: on a shared machine the noise only
 * ever makes a run slower.
 *
 * weft runs twice: every client on WebSocket, then every client on HTTP
 * long-polling (weft's own client in both cases).
 *
 * Peers, each with its server and clients in one process like weft here:
 * - raw Deno WebSocket (Deno.serve + Deno.upgradeWebSocket + WebSocket, a
 *   bare JSON message and a hand-made id for the echo): the floor under
 *   weft's protocol, rooms and acks;
 * - socket.io 4 + socket.io-client 4 on Node (/usr/bin/node), WebSocket
 *   transport only (bench/events_peer_socketio.mjs), installed with npm
 *   into a temp folder at start.
 */
import { parseArgs } from "node:util";
import * as current from "../net/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    clients: { type: "string", default: "100" },
    broadcasts: { type: "string", default: "2000" },
    "round-trips": { type: "string", default: "5000" },
    runs: { type: "string", default: "3" },
    baseline: { type: "string" },
  },
});
const CLIENTS = Number(values.clients);
const BROADCASTS = Number(values.broadcasts);
const ROUND_TRIPS = Number(values["round-trips"]);
const RUNS = Number(values.runs);

interface Result {
  deliveries: number;
  broadcasts: number;
  roundTrips: number;
}

type Weft = Pick<typeof current, "serveEvents" | "connectEvents">;

async function weft(
  transport: "websocket" | "polling",
  { serveEvents, connectEvents }: Weft = current,
): Promise<Result> {
  await using server = serveEvents({ onError: () => {} });
  server.on("connect", (sid) => server.enterRoom(sid, "room"));
  server.on("echo", (_sid, data) => data);
  const clients = await Promise.all(
    Array.from(
      { length: CLIENTS },
      () => connectEvents(server.url, { transports: [transport] }),
    ),
  );
  try {
    let received = 0;
    const total = CLIENTS * BROADCASTS;
    const done = new Promise<void>((resolve) => {
      for (const c of clients) {
        c.on("news", () => {
          if (++received === total) resolve();
        });
      }
    });
    let t0 = performance.now();
    for (let i = 0; i < BROADCASTS; i++) {
      server.emit("news", { text: "hello", i }, { room: "room" });
    }
    await done;
    const fanout = (performance.now() - t0) / 1000;
    t0 = performance.now();
    for (let i = 0; i < ROUND_TRIPS; i++) {
      await clients[0].call("echo", { i });
    }
    const rtt = (performance.now() - t0) / 1000;
    return {
      deliveries: total / fanout,
      broadcasts: BROADCASTS / fanout,
      roundTrips: ROUND_TRIPS / rtt,
    };
  } finally {
    await Promise.all(clients.map((c) => c.disconnect()));
  }
}

async function rawDeno(): Promise<Result> {
  const peers = new Set<WebSocket>();
  const closed: Promise<void>[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.onopen = () => peers.add(socket);
      socket.onmessage = (e) => socket.send(e.data); // echo
      closed.push(new Promise((r) => socket.onclose = () => r()));
      return response;
    },
  );
  const url = `ws://127.0.0.1:${server.addr.port}/`;
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, () =>
      new Promise<WebSocket>((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => resolve(ws);
      })),
  );
  while (peers.size < CLIENTS) await new Promise((r) => setTimeout(r, 5));
  let received = 0;
  const total = CLIENTS * BROADCASTS;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => resolveDone = r);
  for (const c of clients) {
    c.onmessage = (e) => {
      JSON.parse(e.data); // as any real client would
      if (++received === total) resolveDone();
    };
  }
  let t0 = performance.now();
  for (let i = 0; i < BROADCASTS; i++) {
    const frame = JSON.stringify({
      t: "e",
      n: "news",
      d: { text: "hello", i },
    });
    for (const p of peers) p.send(frame);
  }
  await done;
  const fanout = (performance.now() - t0) / 1000;
  const c0 = clients[0];
  let answer!: () => void;
  c0.onmessage = () => answer();
  t0 = performance.now();
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const got = new Promise<void>((r) => answer = r);
    c0.send(JSON.stringify({ t: "e", n: "echo", d: { i }, id: i + 1 }));
    await got;
  }
  const rtt = (performance.now() - t0) / 1000;
  for (const c of clients) c.close();
  await Promise.all(closed);
  await server.shutdown();
  return {
    deliveries: total / fanout,
    broadcasts: BROADCASTS / fanout,
    roundTrips: ROUND_TRIPS / rtt,
  };
}

/** Installs socket.io into a temp folder; returns a runner or why not. */
async function socketIoPeer(): Promise<
  {
    run: (transport: string) => Promise<Result | string>;
    dispose: () => Promise<void>;
  } | string
> {
  const dir = await Deno.makeTempDir({ prefix: "weft-bench-socketio-" });
  const dispose = () => Deno.remove(dir, { recursive: true });
  try {
    const install = await new Deno.Command("npm", {
      args: [
        "install",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "socket.io@4",
        "socket.io-client@4",
      ],
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!install.success) {
      await dispose();
      return `npm install failed: ${new TextDecoder().decode(install.stderr)}`;
    }
    const script = `${dir}/peer.mjs`;
    await Deno.copyFile(
      new URL("./events_peer_socketio.mjs", import.meta.url),
      script,
    );
    const run = async (transport: string): Promise<Result | string> => {
      const out = await new Deno.Command("node", {
        args: [
          script,
          String(CLIENTS),
          String(BROADCASTS),
          String(ROUND_TRIPS),
          transport,
        ],
        cwd: dir,
        stdout: "piped",
        stderr: "inherit",
      }).output();
      if (!out.success) return "node peer failed";
      return JSON.parse(new TextDecoder().decode(out.stdout));
    };
    return { run, dispose };
  } catch (error) {
    await dispose();
    return `socket.io peer unavailable: ${(error as Error).message}`;
  }
}

function best(a: Result | string | undefined, b: Result | string) {
  if (typeof b === "string") return a ?? b;
  if (a === undefined || typeof a === "string") return b;
  return {
    deliveries: Math.max(a.deliveries, b.deliveries),
    broadcasts: Math.max(a.broadcasts, b.broadcasts),
    roundTrips: Math.max(a.roundTrips, b.roundTrips),
  };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

console.log(
  `fan-out to ${CLIENTS} clients in one room (${BROADCASTS} broadcasts), ` +
    `then ${ROUND_TRIPS} sequential ack round trips; best of ${RUNS} runs\n`,
);
const peer = await socketIoPeer();
const baseline: Weft | undefined = values.baseline === undefined
  ? undefined
  : await import(
    new URL(`file://${Deno.realPathSync(values.baseline)}/net/mod.ts`).href
  );
const names = [
  "weft, WebSocket",
  "weft, long-polling",
  "raw Deno WebSocket (no protocol)",
  "socket.io 4 on Node 20, WebSocket",
  "socket.io 4 on Node 20, polling",
  ...(baseline ? ["weft baseline, WebSocket", "weft baseline, polling"] : []),
];
const bests: (Result | string | undefined)[] = names.map(() => undefined);
for (let run = 0; run < RUNS; run++) {
  bests[0] = best(bests[0], await weft("websocket"));
  bests[1] = best(bests[1], await weft("polling"));
  bests[2] = best(bests[2], await rawDeno());
  bests[3] = best(
    bests[3],
    typeof peer === "string" ? peer : await peer.run("websocket"),
  );
  bests[4] = best(
    bests[4],
    typeof peer === "string" ? peer : await peer.run("polling"),
  );
  if (baseline) {
    bests[5] = best(bests[5], await weft("websocket", baseline));
    bests[6] = best(bests[6], await weft("polling", baseline));
  }
}
if (typeof peer !== "string") await peer.dispose();
const results = names.map((name, i) => [name, bests[i]!] as const);
// each row's ratio: weft's WebSocket row against it (weft polling against
// socket.io polling and the baseline's polling)
const ratioBase = [0, 1, 0, 0, 1, 0, 1];
console.log(
  `${"".padEnd(34)} ${"deliveries/s".padStart(14)} ${
    "broadcasts/s".padStart(13)
  } ${"round trips/s".padStart(14)}  weft ratio (fan-out / rtt)`,
);
results.forEach(([name, r], i) => {
  if (typeof r === "string") {
    console.log(`${name.padEnd(34)} ${r}`);
    return;
  }
  const base = results[ratioBase[i]][1];
  const ratio = typeof base === "string"
    ? ""
    : `${(base.deliveries / r.deliveries).toFixed(2)}x / ${
      (base.roundTrips / r.roundTrips).toFixed(2)
    }x`;
  console.log(
    `${name.padEnd(34)} ${fmt(r.deliveries).padStart(14)} ${
      fmt(r.broadcasts).padStart(13)
    } ${fmt(r.roundTrips).padStart(14)}  ${ratio}`,
  );
});
