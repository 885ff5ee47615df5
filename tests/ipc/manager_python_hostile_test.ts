// Hostile input on a weft Manager's Python protocol: a request before
// authentication, unknown methods and objects, globals outside the
// allow-list, oversize, truncated and deeply nested pickles. Each gets a
// clear refusal, nothing is executed, and the manager keeps serving. Also:
// error replies carry no server stack or paths unless `debug` is set.
import assert from "node:assert/strict";
import { withTimeout } from "../_helpers.ts";
import { clientHandshake } from "../../auth/handshake.ts";
import {
  dumpMessage,
  loadMessage,
  TokenValue,
} from "../../ipc/_py_manager_codec.ts";
import type { Connection } from "../../ipc/connection.ts";
import { Client } from "../../ipc/listener.ts";
import { Manager } from "../../ipc/manager.ts";
import { RemoteError } from "../../ipc/manager_error.ts";
import { tuple } from "../../ipc/pickle_values.ts";

const KEY = "hostile test key";

async function served(
  body: (manager: Manager, port: number) => Promise<void>,
  debug = false,
): Promise<void> {
  const manager = await Manager.serve({ port: 0, authkey: KEY, debug });
  try {
    const { port } = manager.address as { port: number };
    await withTimeout(body(manager, port), 30_000, "hostile test");
  } finally {
    await manager.shutdown();
  }
}

const connect = (port: number) =>
  Client({ hostname: "127.0.0.1", port }, { authkey: KEY });

async function ask(conn: Connection, message: unknown[]): Promise<unknown[]> {
  await conn.sendBytes(dumpMessage(message));
  return await reply(conn);
}

async function reply(conn: Connection): Promise<unknown[]> {
  return [...loadMessage(await conn.recvBytes()) as unknown[]];
}

/** An object-call connection (after `accept_connection`). */
async function accepted(port: number): Promise<Connection> {
  const conn = await connect(port);
  assert.deepEqual(
    await ask(conn, [null, "accept_connection", tuple("hostile"), {}]),
    ["#RETURN", null],
  );
  return conn;
}

/** A working create + call, proving the manager still serves. */
async function stillServes(port: number): Promise<void> {
  const root = await connect(port);
  const [kind, created] = await ask(root, [null, "create", tuple("list"), {}]);
  root.close();
  assert.equal(kind, "#RETURN");
  const ident = (created as unknown[])[0];
  const conn = await accepted(port);
  try {
    assert.deepEqual(await ask(conn, [ident, "append", tuple(1), {}]), [
      "#RETURN",
      null,
    ]);
    assert.deepEqual(await ask(conn, [ident, "__len__", tuple(), {}]), [
      "#RETURN",
      1,
    ]);
  } finally {
    conn.close();
  }
}

function expectTraceback(answer: unknown[], pattern: RegExp): void {
  assert.equal(answer[0], "#TRACEBACK", String(answer[1]));
  assert.match(String(answer[1]), pattern);
  assert.doesNotMatch(String(answer[1]), /file:|\/work\/|\.ts:\d/);
}

Deno.test("python protocol: a pickled request before authentication is never answered; the socket closes", async () => {
  await served(async (_manager, port) => {
    const socket = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      const request = dumpMessage([null, "create", tuple("dict"), {}]);
      const frame = new Uint8Array(4 + request.length);
      new DataView(frame.buffer).setUint32(0, request.length);
      frame.set(request, 4);
      await socket.write(frame);
      const received: number[] = [];
      const buffer = new Uint8Array(4096);
      while (true) {
        const n = await socket.read(buffer).catch(() => null);
        if (n === null) break;
        received.push(...buffer.subarray(0, n));
      }
      const text = new TextDecoder("latin1").decode(new Uint8Array(received));
      assert.match(text, /#CHALLENGE#/);
      assert.doesNotMatch(text, /#RETURN|#TRACEBACK|WELCOME/);
    } finally {
      socket.close();
    }
    await stillServes(port);
  });
});

Deno.test("python protocol: unknown root calls, objects and methods get #TRACEBACK; nothing runs", async () => {
  await served(async (_manager, port) => {
    const root = await connect(port);
    expectTraceback(
      await ask(root, [null, "system", tuple("echo hacked"), {}]),
      /AssertionError: 'system' unrecognized/,
    );
    root.close();
    const create = await connect(port);
    expectTraceback(
      await ask(create, [null, "create", tuple("os.system"), {}]),
      /KeyError/,
    );
    create.close();
    const conn = await accepted(port);
    try {
      expectTraceback(
        await ask(conn, ["999999", "__len__", tuple(), {}]),
        /KeyError/,
      );
      expectTraceback(
        await ask(conn, [null, "shutdown", tuple(), {}]),
        /KeyError/,
      );
      expectTraceback(await ask(conn, ["1", "x"]), /expected/);
    } finally {
      conn.close();
    }
    const root2 = await connect(port);
    const [, created] = await ask(root2, [null, "create", tuple("dict"), {}]);
    root2.close();
    const ident = (created as unknown[])[0];
    // The informational root calls answer plainly.
    const info = async (method: string, args: unknown[]) => {
      const conn = await connect(port);
      try {
        return await ask(conn, [null, method, tuple(...args), {}]);
      } finally {
        conn.close();
      }
    };
    assert.deepEqual(await info("number_of_objects", []), ["#RETURN", 1]);
    assert.match(String((await info("debug_info", []))[1]), /refcount=1/);
    const token = new TokenValue("dict", tuple("127.0.0.1", port), ident);
    const [kind, methods] = await info("get_methods", [token]);
    assert.equal(kind, "#RETURN");
    assert.ok((methods as string[]).includes("__getitem__"));
    expectTraceback(await info("incref", ["424242"]), /KeyError/);
    expectTraceback(await info("decref", ["424242"]), /KeyError/);
    const calls = await accepted(port);
    try {
      for (
        const method of ["__class__", "__init__", "__getattribute__", "eval"]
      ) {
        expectTraceback(
          await ask(calls, [ident, method, tuple(), {}]),
          /AttributeError: method .* is not in exposed/,
        );
      }
      // A Python exception crosses as #ERROR, not a traceback.
      const [kind, error] = await ask(calls, [
        ident,
        "__getitem__",
        tuple("k"),
        {},
      ]);
      assert.equal(kind, "#ERROR");
      assert.equal((error as Error).name, "KeyError");
    } finally {
      calls.close();
    }
    await stillServes(port);
  });
});

Deno.test("python protocol: a global outside the allow-list is refused before anything is built", async () => {
  await served(async (_manager, port) => {
    const marker = await Deno.makeTempFile();
    await Deno.remove(marker);
    // (None, os.system("touch <marker>"), (), {}) in protocol 2.
    const command = new TextEncoder().encode(`touch ${marker}`);
    const bytes = [0x80, 0x02, 0x4e]; // PROTO 2, NONE
    bytes.push(0x63, ...new TextEncoder().encode("os\nsystem\n")); // GLOBAL
    bytes.push(0x58, command.length, 0, 0, 0, ...command); // BINUNICODE
    bytes.push(0x85, 0x52); // TUPLE1, REDUCE
    bytes.push(0x29, 0x7d, 0x87, 0x2e); // EMPTY_TUPLE, EMPTY_DICT, TUPLE3... STOP
    const conn = await accepted(port);
    try {
      await conn.sendBytes(new Uint8Array(bytes));
      expectTraceback(await reply(conn), /not allowed/);
      // The same connection keeps serving.
      expectTraceback(await ask(conn, ["0", "x", tuple(), {}]), /KeyError/);
    } finally {
      conn.close();
    }
    await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
    await stillServes(port);
  });
});

Deno.test("python protocol: oversize, truncated and deeply nested pickles are refused; the connection keeps serving", async () => {
  await served(async (_manager, port) => {
    const conn = await accepted(port);
    try {
      // 17 MiB: over the 16 MiB cap.
      const huge = new Uint8Array(17 * 1024 * 1024);
      huge[0] = 0x80;
      huge[1] = 0x04;
      await conn.sendBytes(huge);
      expectTraceback(await reply(conn), /exceeds/);
      // Truncated: a valid pickle cut short.
      const valid = dumpMessage([null, "dummy", tuple(), {}]);
      await conn.sendBytes(valid.subarray(0, valid.length - 3));
      expectTraceback(await reply(conn), /Unpickling|truncated|Cannot/i);
      // 200 000 nested lists.
      const deep = new Uint8Array(2 + 200_000 + 1);
      deep.set([0x80, 0x04]);
      deep.fill(0x5d, 2, 2 + 200_000); // EMPTY_LIST, never closed
      deep[deep.length - 1] = 0x2e;
      await conn.sendBytes(deep);
      expectTraceback(await reply(conn), /./);
      // Garbage that is not a pickle at all.
      await conn.sendBytes(new Uint8Array([0x80, 0xff, 0xff, 0xff, 0xff]));
      expectTraceback(await reply(conn), /./);
    } finally {
      conn.close();
    }
    await stillServes(port);
  });
});

Deno.test("errors reach remote clients without the server's stack unless debug is set", async () => {
  for (const debug of [false, true]) {
    await served(async (manager, port) => {
      await using client = await Manager.connect({
        address: manager.address,
        authkey: KEY,
      });
      const list = await client.list<number>();
      const error = await list.pop().catch((e) => e);
      assert.ok(error instanceof RemoteError);
      assert.equal(error.remoteName, "RangeError");
      if (debug) assert.match(String(error.remoteStack), /_manager_containers/);
      else assert.equal(error.remoteStack, undefined);
      // The Python protocol: #TRACEBACK text, stack only in debug mode.
      const conn = await accepted(port);
      try {
        const [, text] = await ask(conn, ["0", "__len__", tuple(), {}]);
        assert.equal(/\.ts:\d/.test(String(text)), false);
      } finally {
        conn.close();
      }
    }, debug);
  }
});

Deno.test("python protocol: a value pickle cannot carry gets #UNSERIALIZABLE; the connection keeps serving", async () => {
  await served(async (manager, port) => {
    const dict = await manager.dict<string, unknown>({}, { name: "odd" });
    await dict.set("re", /x+/g); // a RegExp: fine for weft, no pickle for it
    await dict.set("n", 1);
    const root = await connect(port);
    const [, created] = await ask(root, [null, "create", tuple("odd"), {}]);
    root.close();
    const ident = (created as unknown[])[0];
    const conn = await accepted(port);
    try {
      const [kind, text] = await ask(conn, [
        ident,
        "__getitem__",
        tuple("re"),
        {},
      ]);
      assert.equal(kind, "#UNSERIALIZABLE");
      assert.doesNotMatch(String(text), /file:|\.ts:\d/);
      assert.deepEqual(
        await ask(conn, [ident, "__getitem__", tuple("n"), {}]),
        [
          "#RETURN",
          1,
        ],
      );
    } finally {
      conn.close();
    }
  });
});

Deno.test("python protocol: a peer piling up requests without reading replies is cut off; others are served", async () => {
  await served(async (_manager, port) => {
    const socket = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      const frame = (bytes: Uint8Array) => {
        const out = new Uint8Array(4 + bytes.length);
        new DataView(out.buffer).setUint32(0, bytes.length);
        out.set(bytes, 4);
        return out;
      };
      const readExactly = async (n: number) => {
        const out = new Uint8Array(n);
        for (let at = 0; at < n;) {
          const got = await socket.read(out.subarray(at));
          if (got === null) return null;
          at += got;
        }
        return out;
      };
      const readFrame = async () => {
        const header = await readExactly(4);
        if (header === null) return null;
        return await readExactly(new DataView(header.buffer).getUint32(0));
      };
      await clientHandshake({
        sendBytes: (bytes) => socket.write(frame(bytes)).then(() => {}),
        recvBytes: async () => {
          const got = await readFrame();
          if (got === null) throw new Error("closed during the handshake");
          return got;
        },
      }, KEY);
      await socket.write(
        frame(dumpMessage([null, "accept_connection", tuple("x"), {}])),
      );
      assert.deepEqual(
        loadMessage((await readFrame())!),
        tuple("#RETURN", null),
      );
      // 200 requests in one write, none of the replies read yet.
      const one = frame(dumpMessage(["0", "__len__", tuple(), {}]));
      const burst = new Uint8Array(one.length * 200);
      for (let i = 0; i < 200; i++) burst.set(one, i * one.length);
      await socket.write(burst);
      let replies = 0;
      while ((await readFrame().catch(() => null)) !== null) replies++;
      assert.ok(replies < 200, `${replies} replies`);
    } finally {
      socket.close();
    }
    await stillServes(port);
  });
});
