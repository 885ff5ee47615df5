// The coroutine lessons of the tutorials, one part per program: one task
// after another, a generator consumer fed by `send()`, greenlet-style
// switching, and gevent's "many downloads at once".
//
//   deno run --allow-net=127.0.0.1 examples/lessons/coroutines.ts --part NAME
//   deno run examples/lessons/coroutines.ts --list
//
// --part picks the program (see --list: each names the seed file and line
// where the tutorial's code starts). --scale multiplies every pause (1 = the
// tutorial's timing); --rounds bounds the parts that loop forever; --times
// shrinks the single-task part's million lines. Only "gevent" needs
// --allow-net: it serves three pages on 127.0.0.1 and fetches them all at
// once (the tutorial fetches three public web sites; pass --urls to fetch
// others, with the matching --allow-net). No partner program.
//
// What differs from Python, and why:
// - JavaScript generators are Python's generators: `gen.next(value)` is
//   `gen.send(value)`, and the first `next()` primes it like `__next__()`.
// - greenlet switches between plain functions from anywhere in their call
//   stack; JavaScript can only suspend at a `yield`, so each greenlet here
//   is a generator that yields the greenlet to switch to.
// - gevent patches blocking sockets to cooperate; in JavaScript every
//   `fetch` is already cooperative, and `Promise.all` is `gevent.joinall`.

import { lessonArgs, type Part, runPart, sleepSync } from "./_python.ts";

const { values, scale } = lessonArgs({
  rounds: { type: "string", default: "5" },
  times: { type: "string", default: "1000000" },
  urls: { type: "string", multiple: true },
});
const rounds = Number(values.rounds);

/** A greenlet: a generator that yields the greenlet it switches to. */
class Greenlet {
  #body: Generator<Greenlet, void, void> | undefined;
  constructor(readonly run: () => Generator<Greenlet, void, void>) {}
  /** Runs greenlets from this one on, following each switch, until one returns. */
  switch(): void {
    Greenlet.#follow(this);
  }
  static #follow(first: Greenlet): void {
    let current: Greenlet | undefined = first;
    while (current) {
      current.#body ??= current.run();
      const step: IteratorResult<Greenlet, void> = current.#body.next();
      current = step.done ? undefined : step.value;
    }
  }
}

const PARTS: Record<string, Part> = {
  // 002:350 — one task must finish before the next can start
  "single-task": {
    seed: "002:350",
    run: () => {
      const funcA = () => {
        const times = Number(values.times);
        // one write instead of a million console.log calls
        Deno.stdout.writeSync(
          new TextEncoder().encode("hello world\n".repeat(times)),
        );
      };
      const funcB = () => {
        for (let i = 0; i < 2; i++) console.log("hello python");
      };
      funcA();
      console.log("-".repeat(23));
      funcB();
      return Promise.resolve();
    },
  },
  // 001:1735 — producer feeds two generator consumers with send()
  yield: {
    seed: "001:1735",
    run: () => {
      function* consumer(name: string): Generator<void, void, number> {
        console.log("---->ready to eat meat bun");
        while (true) {
          const newMeatBun = yield;
          console.log(`[${name}] is eating meat bun ${newMeatBun}`);
        }
      }
      const con1 = consumer("alex");
      const con2 = consumer("alice");
      con1.next(); // con1.__next__()
      con2.next();
      let n = 0;
      for (let round = 0; round < rounds; round++) { // Python: while 1
        sleepSync(1, scale);
        console.log(
          `\x1b[32;1m[producer]\x1b[0m is making meat bun ${n} and ${n + 1}`,
        );
        con1.next(n); // con1.send(n)
        con2.next(n + 1);
        n += 2;
      }
      return Promise.resolve();
    },
  },
  // 001:1769 — greenlet: A and B switch to each other
  greenlet: {
    seed: "001:1769",
    run: () => {
      let switches = 0;
      const g1: Greenlet = new Greenlet(function* A() {
        while (switches++ < rounds * 2) {
          console.log("-------A-------");
          sleepSync(0.5, scale);
          yield g2; // g2.switch()
        }
      });
      const g2: Greenlet = new Greenlet(function* B() {
        while (switches++ < rounds * 2) {
          console.log("-------B-------");
          sleepSync(0.5, scale);
          yield g1; // g1.switch()
        }
      });
      g1.switch();
      return Promise.resolve();
    },
  },
  // 001:1795 — gevent.joinall of three downloads
  gevent: {
    seed: "001:1795",
    run: async () => {
      let server: Deno.HttpServer | undefined;
      let urls = values.urls;
      if (!urls?.length) {
        // three local "sites", each answering after a second like a slow web
        const pages: Record<string, number> = {
          qq: 91_234,
          baidu: 2_443,
          taobao: 140_776,
        };
        server = Deno.serve(
          { hostname: "127.0.0.1", port: 0, onListen: () => {} },
          async (req) => {
            const size = pages[new URL(req.url).pathname.slice(1)] ?? 0;
            await new Promise((r) => setTimeout(r, 1000 * scale));
            return new Response("x".repeat(size));
          },
        );
        const { port } = server.addr as Deno.NetAddr;
        const base = `http://127.0.0.1:${port}`;
        urls = Object.keys(pages).map((name) => `${base}/${name}`);
      }
      const start = performance.now();
      const f = async (url: string) => {
        console.log(`GET: ${url}`);
        const data = await (await fetch(url)).text();
        console.log(`${data.length} bytes received from ${url}.`);
      };
      try {
        await Promise.all(urls.map(f)); // gevent.joinall([gevent.spawn(f, url), ...])
      } finally {
        await server?.shutdown();
      }
      console.log("cost time:", (performance.now() - start) / 1000);
    },
  },
};

await runPart(PARTS, values);
