// Three chat nodes (examples/chat_cluster/node.ts) on one throwaway Redis,
// no load balancer: each client picks a node. Everyone in room "lobby"
// hears everyone else exactly once, whatever node they are on; a client in
// another room hears nothing. Ends by itself (under ~10 s) and stops every
// process it started.
//
//   deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run --allow-env examples/chat_cluster/demo.ts
//
// Needs redis-server on PATH (apt-get install redis-server). Prints
// "chat cluster OK" last.
import { connectEvents, type EventClient } from "../../net/mod.ts";
import { RedisServer } from "../../cluster/mod.ts";

const NODE = new URL("./node.ts", import.meta.url).pathname;
const t0 = performance.now();
const log = (line: string) =>
  console.log(
    `[${(performance.now() - t0).toFixed(0).padStart(5)} ms] ${line}`,
  );

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) =>
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)
    ),
  ]).finally(() => clearTimeout(timer));
}

/** Starts one node; resolves with its URL once it prints it. */
async function startNode(redisUrl: string, name: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env",
      NODE,
      "--redis",
      redisUrl,
      "--name",
      name,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const url = await withTimeout(
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`node ${name} exited`);
        text += value;
        const m = text.match(/listening on (http:\/\/\S+)/);
        if (m) return m[1];
      }
    })(),
    30_000,
    `node ${name} start`,
  );
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return { name, url, child };
}

const redis = await RedisServer.start();
const nodes: Awaited<ReturnType<typeof startNode>>[] = [];
const clients: EventClient[] = [];
try {
  nodes.push(
    ...await Promise.all(
      ["n1", "n2", "n3"].map((n) => startNode(redis.url, n)),
    ),
  );
  log(`3 chat nodes up on one Redis: ${nodes.map((n) => n.url).join(" ")}`);

  const people = ["ada", "bob", "cy"];
  const inbox = new Map<string, string[]>();
  const heardBoth: Promise<void>[] = [];
  for (const [i, who] of [...people, "dee"].entries()) {
    const node = nodes[i % 3];
    const room = who === "dee" ? "elsewhere" : "lobby";
    const client = await connectEvents(node.url, { auth: { name: who, room } });
    inbox.set(who, []);
    let heard!: () => void;
    if (who !== "dee") heardBoth.push(new Promise((r) => heard = r));
    client.on("message", (m: { from: string; node: string; text: string }) => {
      const mine = inbox.get(who)!;
      mine.push(`${m.from}@${m.node}: ${m.text}`);
      log(`${who}@${node.name} <- ${m.from}@${m.node}: ${m.text}`);
      if (mine.length === 2) heard?.();
    });
    clients.push(client);
    log(`${who} joined ${room} on ${node.name}`);
  }
  for (const [i, who] of people.entries()) {
    const count = await clients[i].call("say", `hello from ${who}`);
    log(`${who} said hello (room has ${count} people across the fleet)`);
    if (count !== 3) {
      throw new Error(`expected 3 people in lobby, got ${count}`);
    }
  }
  // each lobby member hears the two others (bounded wait)
  await withTimeout(Promise.all(heardBoth), 10_000, "messages across nodes");
  for (const who of people) {
    const heard = inbox.get(who)!;
    if (heard.length !== 2 || heard.some((h) => h.startsWith(`${who}@`))) {
      throw new Error(`${who} heard ${JSON.stringify(heard)}`);
    }
  }
  if (inbox.get("dee")!.length !== 0) throw new Error("dee heard the lobby");
  log(
    "everyone in lobby heard the two others once; dee (elsewhere) heard nothing",
  );
  console.log("chat cluster OK");
} finally {
  for (const c of clients) await c.disconnect().catch(() => {});
  for (const n of nodes) {
    await n.child.stdin.close().catch(() => {});
    const timer = setTimeout(() => n.child.kill("SIGKILL"), 5000);
    await n.child.status;
    clearTimeout(timer);
  }
  await redis.stop();
}
