/**
 * TCP and UDP the way Python's `socket` and `socketserver` tutorials teach
 * them, done right: message framing that survives TCP's "sticky packets"
 * ({@linkcode LengthPrefixCodec}, {@linkcode DelimiterCodec},
 * {@linkcode FramedConnection}, {@linkcode readExactly}), servers with
 * connection limits, idle timeouts, graceful shutdown and real threads
 * ({@linkcode serveTcp}), and UDP with size checks and retries
 * ({@linkcode serveUdp}, {@linkcode DatagramSocket}); plus a Socket.IO
 * server and client ({@linkcode serveEvents}, {@linkcode EventClient}) that
 * speak Engine.IO 4 / Socket.IO 5 with the official clients and servers.
 *
 * Servers listen on 127.0.0.1 unless told otherwise. Needs `--allow-net`;
 * UDP, `reusePort` and `serveTcp({ threads })` also need `--unstable-net`
 * (or `"unstable": ["net"]` in deno.json).
 *
 * @example A length-prefixed echo server and its client
 * ```ts
 * import assert from "node:assert/strict";
 * import { FramedConnection, LengthPrefixCodec, serveTcp } from "@weft/weft/net";
 *
 * const codec = new LengthPrefixCodec({ headerBytes: 4, maxFrameSize: 1 << 20 });
 * await using server = await serveTcp({
 *   port: 0,
 *   idleTimeout: 5000,
 *   handler: async (conn) => {
 *     const framed = new FramedConnection(conn, codec);
 *     for await (const frame of framed) await framed.send(frame); // echo
 *   },
 * });
 * using client = new FramedConnection(await Deno.connect(server.addr), codec);
 * await client.send("one");
 * await client.send("two");
 * const decoder = new TextDecoder();
 * assert.equal(decoder.decode((await client.receive())!), "one");
 * assert.equal(decoder.decode((await client.receive())!), "two");
 * ```
 *
 * @module
 */
export * from "./codec.ts";
export * from "./framed_connection.ts";
export * from "./recv.ts";
export * from "./served_connection.ts";
export * from "./tcp_server.ts";
export * from "./datagram_socket.ts";
export * from "./udp_server.ts";
export * from "./event_server.ts";
export * from "./event_namespace.ts";
export * from "./event_adapter.ts";
export * from "./event_client.ts";
