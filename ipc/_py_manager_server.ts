/**
 * Python's `multiprocessing.managers` protocol on a weft manager (private):
 * `BaseManager` / `SyncManager` clients of CPython 3.11+ use the same
 * objects as weft's clients.
 *
 * ## Telling the protocols apart
 * Both start with the same authkey handshake on the same listener. Then a
 * Python client sends a pickle (protocol 2+, first byte `0x80`), framed as
 * Python frames (`[i32 length][bytes]`); a weft client sends
 * `[u32 length][u32 call id][JSON]` whose first call id is small (high
 * byte 0). So the first frame's first payload byte decides, and a
 * connection keeps its protocol to the end.
 *
 * ## A connection's life, as CPython's `Server` runs it
 * | first request `(None, name, args, kwds)` | reply | then |
 * | --- | --- | --- |
 * | `dummy`, `create`, `incref`, `decref`, `get_methods`, `debug_info`, `number_of_objects`, `shutdown` | `('#RETURN', result)` or `('#TRACEBACK', text)` | the connection closes |
 * | `accept_connection(name)` | `('#RETURN', None)` | object calls `(ident, method, args, kwds)`, one at a time, until EOF |
 *
 * Object calls answer `('#RETURN', value)`, `('#ERROR', exception)` (a
 * Python exception the proxy re-raises: `KeyError(key)`, `queue.Empty`...),
 * `('#PROXY', (exposed, token))` (`iter(dict_proxy)`), `('#TRACEBACK', text)`
 * (unknown object or method; the text is a message, never this server's
 * stack unless `debug`) or `('#UNSERIALIZABLE', text)`.
 *
 * Idents are the weft object ids as decimal strings. Python's reference
 * counts are kept per object: when the last Python reference to an object
 * a Python client created goes, the object is released. Objects created by
 * weft code (found by name) are never released by Python's counts.
 *
 * @module
 */

import type { Frame } from "./_manager_protocol.ts";
import type { StreamTransport } from "./_stream_transport.ts";
import type { Entry, LiveSession, ManagerServer } from "./_manager_server.ts";
import { type Kwds, toKwds } from "./_py_manager_args.ts";
import {
  dumpMessage,
  loadMessage,
  type ProxyRef,
  PyException,
  TokenValue,
  toPyException,
} from "./_py_manager_codec.ts";
import {
  containerAdapter,
  createContainer,
  type PyAdapter,
  type PyCreated,
} from "./_py_manager_containers.ts";
import { createSync, syncAdapter, userAdapter } from "./_py_manager_sync.ts";
import { Tuple, tuple } from "./pickle_values.ts";

/** True if `frame` is the first frame of a Python client (a pickle). */
export function isPythonFrame(frame: Frame): boolean {
  return frame.id >= 0x8000_0000;
}

interface RefCount {
  count: number;
  /** Created by a Python client: released when the count drops to 0. */
  owned: boolean;
}

/** Python clients' reference counts, per object id. */
export class PyRefs {
  #counts = new Map<number, RefCount>();

  /** Number of objects Python clients hold references to. */
  get size(): number {
    return this.#counts.size;
  }

  /** Counts a new reference (creating the record for a fresh object). */
  add(id: number, owned: boolean): void {
    const record = this.#counts.get(id);
    if (record === undefined) this.#counts.set(id, { count: 1, owned });
    else record.count++;
  }

  /** Python's `incref`; false if the object has no record. */
  incref(id: number): boolean {
    const record = this.#counts.get(id);
    if (record === undefined) return false;
    record.count++;
    return true;
  }

  /** Python's `decref`; "release" when an owned object's count hits 0. */
  decref(id: number): "unknown" | "kept" | "release" {
    const record = this.#counts.get(id);
    if (record === undefined) return "unknown";
    if (--record.count > 0) return "kept";
    this.#counts.delete(id);
    return record.owned ? "release" : "kept";
  }

  /** Never release `id` because of Python's counts (it is held inside another object). */
  pin(id: number): void {
    const record = this.#counts.get(id);
    if (record === undefined) this.#counts.set(id, { count: 1, owned: false });
    else record.owned = false;
  }

  /** The object is gone: drop its record. */
  forget(id: number): void {
    this.#counts.delete(id);
  }

  /** Records for `debug_info`. */
  entries(): [number, number][] {
    return [...this.#counts].map(([id, { count }]) => [id, count]);
  }
}

type Reply = [kind: string, value: unknown];

/** Most requests one Python connection may have waiting. */
const MAX_QUEUED = 16;

const ROOT_CALLS: ReadonlySet<string> = new Set([
  "shutdown",
  "create",
  "accept_connection",
  "get_methods",
  "debug_info",
  "number_of_objects",
  "dummy",
  "incref",
  "decref",
]);

/** The adapter for an entry. */
function adapterOf(entry: Entry): PyAdapter {
  return containerAdapter(entry.object) ?? syncAdapter(entry.object) ??
    userAdapter(entry.methods);
}

function parseIdent(ident: unknown): number | undefined {
  if (typeof ident !== "string" || !/^[1-9]\d{0,15}$/.test(ident)) {
    return undefined;
  }
  return Number(ident);
}

/** The text of a `#TRACEBACK` reply: no stack, no paths, unless debug. */
function traceback(error: unknown, debug: boolean): Reply {
  let text: string;
  if (error instanceof PyException) {
    text = `${error.name}: ${error.message}`;
  } else if (error instanceof Error) {
    text = `${error.name}: ${error.message}`;
    if (debug && error.stack !== undefined) text = error.stack;
  } else {
    text = String(error);
  }
  return ["#TRACEBACK", text + "\n"];
}

/** Serves one Python client connection whose first frame is `first`. */
export async function servePython(
  server: ManagerServer,
  session: LiveSession,
  first: Frame,
): Promise<void> {
  const channel = session.channel;
  let accepted = false;

  // Replies go out as Python frames; the promise settles once written (a
  // root connection closes only after its reply has left).
  const stream = (channel as { stream?: Pick<StreamTransport, "writeFrame"> })
    .stream;
  const send = async (reply: Reply): Promise<void> => {
    if (channel.closed) return;
    let bytes: Uint8Array;
    try {
      bytes = dumpMessage(reply);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      bytes = dumpMessage(["#UNSERIALIZABLE", `${text}\n`]);
    }
    try {
      if (stream !== undefined) return await stream.writeFrame(bytes);
      // A channel without a stream: the same bytes as an (id, body) frame.
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      channel.send(view.getUint32(0), bytes.subarray(4));
    } catch {
      // the client is gone
    }
  };

  const handle = async (frame: Frame): Promise<void> => {
    let reply: Reply;
    try {
      if (frame.body === undefined) {
        throw new RangeError(
          `Cannot accept request: ${frame.oversize} bytes exceeds the ${server.maxFrame}-byte cap`,
        );
      }
      const bytes = new Uint8Array(frame.body.length + 4);
      new DataView(bytes.buffer).setUint32(0, frame.id);
      bytes.set(frame.body, 4);
      const refs: ProxyRef[] = [];
      const request = loadMessage(bytes, server.maxFrame, refs);
      // An object passed inside a call may now be held by another one (a
      // managed dict appended to a managed list): as CPython's server keeps
      // such objects, Python's reference counts no longer free it.
      for (const ref of refs) {
        const id = parseIdent(ref.token.id);
        if (id !== undefined && server.lookup(id) !== undefined) {
          server.pyRefs.pin(id);
        }
      }
      if (!(request instanceof Tuple) || request.length !== 4) {
        throw new TypeError(
          "Cannot read request: expected (ident, method, args, kwds)",
        );
      }
      const [ident, method, args, kwds] = request;
      if (typeof method !== "string" || !Array.isArray(args)) {
        throw new TypeError("Cannot read request: bad method or args");
      }
      reply = accepted
        ? await objectCall(ident, method, [...args], toKwds(kwds))
        : await rootCall(method, [...args], toKwds(kwds));
    } catch (error) {
      reply = traceback(error, server.debug);
    }
    if (accepted) {
      send(reply);
    } else {
      await send(reply);
      channel.close();
    }
  };

  const rootCall = (method: string, args: unknown[], kwds: Kwds): Reply => {
    if (!ROOT_CALLS.has(method)) {
      throw new PyException("AssertionError", [`'${method}' unrecognized`]);
    }
    const refs = server.pyRefs;
    const ident = () => {
      const id = parseIdent(args[0]);
      if (id === undefined || server.lookup(id) === undefined) {
        throw new PyException("KeyError", [args[0]]);
      }
      return id;
    };
    switch (method) {
      case "dummy":
        return ["#RETURN", null];
      case "accept_connection":
        accepted = true;
        return ["#RETURN", null];
      case "create": {
        const { id, adapter } = create(args, kwds);
        return [
          "#RETURN",
          tuple<unknown>(String(id), tuple(...adapter.exposed)),
        ];
      }
      case "incref": {
        const id = ident();
        if (!refs.incref(id)) refs.add(id, false);
        return ["#RETURN", null];
      }
      case "decref": {
        const id = parseIdent(args[0]);
        const outcome = id === undefined ? "unknown" : refs.decref(id);
        if (outcome === "unknown") {
          throw new PyException("KeyError", [args[0]]);
        }
        if (outcome === "release") server.release(id!);
        return ["#RETURN", null];
      }
      case "get_methods": {
        const token = args[0];
        const id = token instanceof TokenValue
          ? parseIdent(token.id)
          : undefined;
        const entry = id === undefined ? undefined : server.lookup(id);
        if (entry === undefined) throw new PyException("KeyError", [args[0]]);
        return ["#RETURN", tuple(...adapterOf(entry).exposed)];
      }
      case "debug_info":
        return [
          "#RETURN",
          refs.entries().map(([id, count]) =>
            `  ${id}:       refcount=${count}\n    ${
              server.lookup(id)?.typeid ?? "?"
            }`
          ).join("\n"),
        ];
      case "number_of_objects":
        return ["#RETURN", refs.size];
      case "shutdown":
        server.requestShutdown();
        return ["#RETURN", null];
    }
    throw new PyException("AssertionError", [`'${method}' unrecognized`]);
  };

  const resolve = (ref: ProxyRef): object | undefined => {
    const id = parseIdent(ref.token.id);
    return id === undefined ? undefined : server.lookup(id)?.object;
  };

  const create = (
    args: unknown[],
    kwds: Kwds,
  ): { id: number; adapter: PyAdapter } => {
    const [typeid, ...rest] = args;
    if (typeof typeid !== "string") {
      throw new PyException("TypeError", ["typeid must be a str"]);
    }
    let made: PyCreated | undefined;
    try {
      made = createContainer(typeid, rest, kwds) ??
        createSync(typeid, rest, kwds, resolve);
    } catch (error) {
      throw toPyException(error);
    }
    if (made !== undefined) {
      const id = server.adopt(made.typeid, made.object, made.methods);
      server.pyRefs.add(id, true);
      return { id, adapter: adapterOf(server.lookup(id)!) };
    }
    const named = server.idByName(typeid);
    if (named !== undefined) {
      server.pyRefs.add(named, false);
      return { id: named, adapter: adapterOf(server.lookup(named)!) };
    }
    if (server.hasUserType(typeid)) {
      if (kwds.size > 0) {
        throw new PyException("TypeError", [
          `${typeid}() takes no keyword arguments (a weft class)`,
        ]);
      }
      const { id } = server.create(typeid, rest);
      server.pyRefs.add(id, true);
      return { id, adapter: adapterOf(server.lookup(id)!) };
    }
    if (typeid === "Pool" || typeid === "AsyncResult") {
      throw new PyException("TypeError", [
        `${typeid} is not served by a weft manager: functions do not cross to it (use weft's Pool)`,
      ]);
    }
    throw new PyException("KeyError", [typeid]);
  };

  const objectCall = async (
    ident: unknown,
    method: string,
    args: unknown[],
    kwds: Kwds,
  ): Promise<Reply> => {
    const id = parseIdent(ident);
    const entry = id === undefined ? undefined : server.lookup(id);
    if (entry === undefined) {
      throw new PyException("KeyError", [ident]);
    }
    const adapter = adapterOf(entry);
    const { ctx, done } = server.pythonCall(session, id!);
    try {
      if (!adapter.exposed.includes(method)) {
        switch (method) {
          case "__repr__":
          case "__str__":
            return ["#RETURN", adapter.repr(entry.object, ctx)];
          case "#GETVALUE":
            return ["#RETURN", adapter.value(entry.object, ctx)];
        }
        throw new PyException("AttributeError", [
          `method '${method}' of ${entry.typeid} object is not in exposed=(${
            adapter.exposed.map((m) => `'${m}'`).join(", ")
          })`,
        ]);
      }
      let result: unknown;
      try {
        result = await adapter.call(entry.object, method, args, kwds, ctx);
      } catch (error) {
        if (ctx.signal.aborted && error === ctx.signal.reason) throw error;
        return ["#ERROR", toPyException(error)];
      }
      const typeid = adapter.methodToTypeid?.[method];
      if (typeid !== undefined && typeof result === "object" && result) {
        const child = server.adopt(typeid, result, new Set());
        server.pyRefs.add(child, true);
        const exposed = tuple(...adapterOf(server.lookup(child)!).exposed);
        const address = server.address === undefined
          ? tuple<unknown>("127.0.0.1", 0)
          : "path" in server.address
          ? server.address.path
          : tuple<unknown>(server.address.hostname, server.address.port);
        const token = new TokenValue(typeid, address, String(child));
        return ["#PROXY", tuple<unknown>(exposed, token)];
      }
      return ["#RETURN", result === undefined ? null : result];
    } finally {
      done();
    }
  };

  // Requests are handled one at a time, in order (a Python client sends the
  // next only after its reply); reading goes on meanwhile, so a client that
  // hangs up while its call waits (a lock, a queue) ends the session and
  // the waiting call is abandoned.
  // A Python client never has more than one request outstanding; a peer
  // piling them up is cut off rather than buffered without bound.
  let queued = 1;
  const done = () => void queued--;
  let chain = handle(first).finally(done);
  while (!channel.closed) {
    let frame: Frame | null;
    try {
      frame = await channel.recv();
    } catch {
      frame = null;
    }
    if (frame === null) break;
    if (++queued > MAX_QUEUED) {
      channel.close();
      break;
    }
    const next = frame;
    chain = chain.then(() => handle(next)).finally(done);
  }
  if (!accepted) await chain;
}
