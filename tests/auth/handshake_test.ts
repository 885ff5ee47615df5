import assert from "node:assert/strict";
import {
  answerChallenge,
  AuthenticationError,
  deliverChallenge,
  type MessageConnection,
} from "../../auth/mod.ts";
import { hmacMd5 } from "../../auth/_md5.ts";
import { hmac } from "../../auth/_hmac.ts";
import { Pipe } from "../../ipc/mod.ts";
import { withTimeout } from "../_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const CHALLENGE = enc.encode("#CHALLENGE#");

/** A scripted peer: records what we send, replies from a queue. */
class Scripted implements MessageConnection {
  sent: Uint8Array[] = [];
  #replies: ((sent: Uint8Array[]) => Promise<Uint8Array> | Uint8Array)[];
  constructor(
    replies: ((sent: Uint8Array[]) => Promise<Uint8Array> | Uint8Array)[],
  ) {
    this.#replies = replies;
  }
  sendBytes(bytes: Uint8Array): Promise<void> {
    this.sent.push(bytes.slice());
    return Promise.resolve();
  }
  async recvBytes(maxLength = Infinity): Promise<Uint8Array> {
    const next = this.#replies.shift();
    if (!next) throw new Error("EOF");
    const reply = await next(this.sent);
    if (reply.length > maxLength) throw new RangeError("too long");
    return reply;
  }
}

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- happy path
Deno.test("deliverChallenge()/answerChallenge() authenticate both ways over a Pipe", async () => {
  const [a, b] = Pipe();
  try {
    await withTimeout(
      Promise.all([
        deliverChallenge(a, "key").then(() => answerChallenge(a, "key")),
        answerChallenge(b, enc.encode("key")).then(() =>
          deliverChallenge(b, "key")
        ),
      ]),
      10_000,
    );
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("deliverChallenge() sends #CHALLENGE#{sha256} + 40 fresh random bytes each time", async () => {
  const messages: Uint8Array[] = [];
  for (let i = 0; i < 2; i++) {
    const conn = new Scripted([(sent) => {
      messages.push(sent[0]);
      return new Uint8Array(16); // wrong md5
    }]);
    await assert.rejects(deliverChallenge(conn, "k"), AuthenticationError);
    assert.equal(dec.decode(conn.sent[1]), "#FAILURE#");
  }
  for (const m of messages) {
    assert.equal(dec.decode(m.subarray(0, 19)), "#CHALLENGE#{sha256}");
    assert.equal(m.length, 19 + 40);
  }
  assert.notDeepEqual(messages[0], messages[1]);
});

// ---- legacy (Python 3.11) peers
Deno.test("deliverChallenge() accepts a Python 3.11 client's raw HMAC-MD5 of the whole challenge", async () => {
  const conn = new Scripted([
    (sent) => hmacMd5(enc.encode("k"), sent[0].subarray(CHALLENGE.length)),
  ]);
  await deliverChallenge(conn, "k");
  assert.equal(dec.decode(conn.sent[1]), "#WELCOME#");
});

Deno.test("deliverChallenge() with allowLegacyMd5: false rejects a correct HMAC-MD5 answer", async () => {
  const conn = new Scripted([
    (sent) => hmacMd5(enc.encode("k"), sent[0].subarray(CHALLENGE.length)),
  ]);
  await assert.rejects(
    deliverChallenge(conn, "k", { allowLegacyMd5: false }),
    AuthenticationError,
  );
  assert.equal(dec.decode(conn.sent[1]), "#FAILURE#");
});

Deno.test("deliverChallenge() accepts a {sha384} answer (Python lets the client pick)", async () => {
  const conn = new Scripted([async (sent) => {
    const m = sent[0].subarray(CHALLENGE.length);
    return join(
      enc.encode("{sha384}"),
      await hmac("sha384", enc.encode("k"), m),
    );
  }]);
  await deliverChallenge(conn, "k");
  assert.equal(dec.decode(conn.sent[1]), "#WELCOME#");
});

Deno.test("answerChallenge() answers a 20-byte legacy challenge with an unprefixed HMAC-MD5", async () => {
  const challenge = crypto.getRandomValues(new Uint8Array(20));
  const conn = new Scripted([
    () => join(CHALLENGE, challenge),
    () => enc.encode("#WELCOME#"),
  ]);
  await answerChallenge(conn, "k");
  assert.deepEqual(conn.sent[0], hmacMd5(enc.encode("k"), challenge));
});

Deno.test("answerChallenge() with allowLegacyMd5: false refuses a legacy challenge", async () => {
  const conn = new Scripted([() => join(CHALLENGE, new Uint8Array(20))]);
  await assert.rejects(
    answerChallenge(conn, "k", { allowLegacyMd5: false }),
    AuthenticationError,
  );
  assert.equal(conn.sent.length, 0);
});

Deno.test("answerChallenge() answers {sha3_256} challenges with {sha256} over the whole message", async () => {
  const m = join(
    enc.encode("{sha3_256}"),
    crypto.getRandomValues(new Uint8Array(40)),
  );
  const conn = new Scripted([
    () => join(CHALLENGE, m),
    () => enc.encode("#WELCOME#"),
  ]);
  await answerChallenge(conn, "k");
  assert.deepEqual(
    conn.sent[0],
    join(enc.encode("{sha256}"), await hmac("sha256", enc.encode("k"), m)),
  );
});

// ---- failures
Deno.test("answerChallenge() rejects a message that is not a challenge without answering", async () => {
  const conn = new Scripted([() => enc.encode("hello, I am a web server")]);
  await assert.rejects(answerChallenge(conn, "k"), AuthenticationError);
  assert.equal(conn.sent.length, 0);
});

Deno.test("answerChallenge() rejects a too-short or unprefixed challenge", async () => {
  for (const body of [new Uint8Array(19), new Uint8Array(30)]) {
    const conn = new Scripted([() => join(CHALLENGE, body)]);
    await assert.rejects(answerChallenge(conn, "k"), AuthenticationError);
  }
});

Deno.test("answerChallenge() rejects #FAILURE# and reports the digest was rejected", async () => {
  const conn = new Scripted([
    () => join(CHALLENGE, enc.encode("{sha256}"), new Uint8Array(40)),
    () => enc.encode("#FAILURE#"),
  ]);
  await assert.rejects(
    answerChallenge(conn, "secret-key"),
    (e: Error) =>
      e instanceof AuthenticationError && /rejected/.test(e.message) &&
      !e.message.includes("secret-key"),
  );
});

Deno.test("deliverChallenge() rejects a replayed response from an earlier handshake", async () => {
  let recorded!: Uint8Array;
  const first = new Scripted([async (sent) => {
    recorded = join(
      enc.encode("{sha256}"),
      await hmac("sha256", enc.encode("k"), sent[0].subarray(CHALLENGE.length)),
    );
    return recorded;
  }]);
  await deliverChallenge(first, "k");
  const replay = new Scripted([() => recorded]);
  await assert.rejects(deliverChallenge(replay, "k"), AuthenticationError);
  assert.equal(dec.decode(replay.sent[1]), "#FAILURE#");
});

Deno.test("deliverChallenge() turns an oversize (> 256 B) response into AuthenticationError", async () => {
  const conn = new Scripted([() => new Uint8Array(257)]);
  await assert.rejects(
    deliverChallenge(conn, "k"),
    (e: Error) =>
      e instanceof AuthenticationError && e.cause instanceof RangeError,
  );
});

Deno.test("deliverChallenge() rejects a response with an unknown digest prefix", async () => {
  const conn = new Scripted([
    () => join(enc.encode("{whirlpool}"), new Uint8Array(32)),
  ]);
  await assert.rejects(deliverChallenge(conn, "k"), AuthenticationError);
  assert.equal(dec.decode(conn.sent[1]), "#FAILURE#");
});

Deno.test("deliverChallenge()/answerChallenge() reject an empty or non-byte authkey with TypeError", async () => {
  const conn = new Scripted([]);
  await assert.rejects(deliverChallenge(conn, ""), TypeError);
  await assert.rejects(answerChallenge(conn, new Uint8Array()), TypeError);
  // deno-lint-ignore no-explicit-any
  await assert.rejects(answerChallenge(conn, 42 as any), TypeError);
});

Deno.test("a peer disconnecting mid-handshake rejects with AuthenticationError (cause kept)", async () => {
  const [a, b] = Pipe();
  const server = deliverChallenge(a, "k");
  await b.recvBytes(); // read the challenge, then vanish
  b.close();
  await assert.rejects(
    withTimeout(server, 10_000),
    (e: Error) => e instanceof AuthenticationError && e.cause !== undefined,
  );
  a.close();
});

// ---- the one-call pair (#19)
Deno.test("serverHandshake()/clientHandshake() authenticate both ways in one call each", async () => {
  const { clientHandshake, serverHandshake } = await import(
    "../../auth/mod.ts"
  );
  const [a, b] = Pipe();
  try {
    await withTimeout(
      Promise.all([
        serverHandshake(a, "key", { timeout: 5000 }),
        clientHandshake(b, "key", { timeout: 5000 }),
      ]),
      10_000,
    );
    await a.send("after");
    assert.equal(await b.recv(), "after");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("serverHandshake() against a silent peer closes the connection and rejects at its deadline", async () => {
  const { serverHandshake } = await import("../../auth/mod.ts");
  const [a, b] = Pipe();
  try {
    await assert.rejects(
      withTimeout(serverHandshake(a, "key", { timeout: 100 }), 10_000),
      (e: Error) =>
        e instanceof AuthenticationError &&
        /timed out after 100 ms/.test(e.message),
    );
    assert.equal(a.closed, true);
    await assert.rejects(
      serverHandshake(b, "key", { timeout: -1 }),
      TypeError,
    );
  } finally {
    a.close();
    b.close();
  }
});
