import assert from "node:assert/strict";
import {
  answerRawChallenge,
  AuthenticationError,
  deliverRawChallenge,
} from "../../auth/mod.ts";

async function pair() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ port: listener.addr.port });
  const server = await listener.accept();
  listener.close();
  return { client, server };
}

/** Closes a stream that a timed-out challenge may have closed already. */
function close(stream: Deno.Conn): void {
  try {
    stream.close();
  } catch {
    // already closed
  }
}

Deno.test("deliverRawChallenge() sends 32 random bytes and wants the 16-byte HMAC-MD5", async () => {
  const { client, server } = await pair();
  try {
    const serving = deliverRawChallenge(server, "alex bang bang bang");
    const challenge = new Uint8Array(32);
    let n = 0;
    while (n < 32) n += (await client.read(challenge.subarray(n)))!;
    // HMAC-MD5 by hand through node:crypto, as Python's hmac.new(key, msg, 'md5')
    const { createHmac } = await import("node:crypto");
    const digest = createHmac("md5", "alex bang bang bang").update(challenge)
      .digest();
    assert.equal(digest.length, 16);
    await client.write(new Uint8Array(digest));
    await serving;
  } finally {
    close(client);
    close(server);
  }
});

Deno.test("deliverRawChallenge() refuses a wrong answer and a silent peer", async () => {
  {
    const { client, server } = await pair();
    const serving = deliverRawChallenge(server, "key");
    await answerRawChallenge(client, "not the key");
    await assert.rejects(serving, AuthenticationError);
    close(client);
    close(server);
  }
  {
    const { client, server } = await pair();
    await assert.rejects(
      deliverRawChallenge(server, "key", { timeout: 50 }),
      (e) => e instanceof AuthenticationError && /within 50 ms/.test(e.message),
    );
    close(client);
    close(server);
  }
});

Deno.test("raw challenge with digest sha256 answers 32 bytes; mismatched digests fail", async () => {
  const { client, server } = await pair();
  try {
    await Promise.all([
      deliverRawChallenge(server, "k", { digest: "sha256" }),
      answerRawChallenge(client, "k", { digest: "sha256" }),
    ]);
  } finally {
    close(client);
    close(server);
  }
  const second = await pair();
  try {
    const [verdict] = await Promise.allSettled([
      deliverRawChallenge(second.server, "k", {
        digest: "sha256",
        timeout: 500,
      }),
      answerRawChallenge(second.client, "k"), // md5: 16 bytes only
    ]);
    assert.equal(verdict.status, "rejected");
  } finally {
    close(second.client);
    close(second.server);
  }
  await assert.rejects(
    deliverRawChallenge(second.server, "k", { challengeLength: 8 }),
    RangeError,
  );
});
