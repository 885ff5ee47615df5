// Demo step: HMAC challenge/response. An ipc Listener with an authkey
// admits a Client holding the key and refuses one with a wrong key; the
// raw auth functions run over a Pipe too.
import {
  answerChallenge,
  AuthenticationError,
  deliverChallenge,
} from "../../auth/mod.ts";
import { Client, Listener, Pipe } from "../../ipc/mod.ts";
import type { DemoStep } from "./step.ts";

export const step: DemoStep = {
  title:
    "auth: HMAC-SHA256 handshake admits the right key, refuses a wrong one",
  async run() {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const refusedOnServer: string[] = [];
    using listener = new Listener({
      address: { hostname: "127.0.0.1", port: 0 },
      authkey: key,
      handshakeTimeout: 5_000,
      onHandshakeError: (error) => refusedOnServer.push(error.message),
    });
    const accepted = listener.accept();
    using good = await Client(listener.address, { authkey: key });
    using server = await accepted;
    await good.send("ping");
    await server.send(String(await server.recv()).toUpperCase());
    const echoed = await good.recv();
    if (echoed !== "PING") throw new Error(`Echo was ${echoed}`);

    let clientError = "";
    try {
      (await Client(listener.address, {
        authkey: crypto.getRandomValues(new Uint8Array(32)),
      }))
        .close();
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      clientError = error.message;
    }
    if (!clientError) throw new Error("A client with a wrong key was admitted");
    for (let i = 0; i < 100 && refusedOnServer.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    const [a, b] = Pipe();
    try {
      await Promise.all([
        deliverChallenge(a, "shared secret"),
        answerChallenge(b, "shared secret"),
      ]);
    } finally {
      a.close();
      b.close();
    }
    return [
      `right key: authenticated both ways, echoed "${echoed}"`,
      `wrong key: refused (${clientError}); server logged ${refusedOnServer.length} refusal(s)`,
      "deliverChallenge/answerChallenge over a Pipe: passed",
    ];
  },
};
