// Demo step: a value crosses into a real Web Worker and back through
// weft's sharing mechanism (share / revive).
import { revive, share, transferList } from "../../concurrency/mod.ts";
import type { DemoStep } from "./step.ts";

const WORKER_SOURCE = `
  self.onmessage = (e) => self.postMessage({ echoed: e.data });
`;

export const step: DemoStep = {
  title: "share() a value with a Web Worker and revive() the reply",
  async run() {
    const url = `data:text/javascript,${encodeURIComponent(WORKER_SOURCE)}`;
    const worker = new Worker(url, { type: "module" });
    try {
      const reply = new Promise<unknown>((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => {
          e.preventDefault();
          reject(new Error(e.message));
        };
      });
      const message = share({ id: 7, tags: new Set(["a", "b"]) });
      worker.postMessage(message, transferList(message));
      const { echoed } = revive<{ echoed: { id: number; tags: Set<string> } }>(
        await reply,
      );
      if (echoed.id !== 7 || !echoed.tags.has("b")) {
        throw new Error("The worker's reply did not round-trip");
      }
      return [`worker echoed id ${echoed.id} with tags ${[...echoed.tags]}`];
    } finally {
      worker.terminate();
    }
  },
};
