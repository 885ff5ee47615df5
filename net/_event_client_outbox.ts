/**
 * The event client's outgoing events (private; no Deno APIs): a packet is
 * encoded and sent at once while its namespace is connected, and otherwise
 * waits (at most 1000 of them) for the reconnection, which sends the
 * waiting packets in order. A packet that cannot be sent then fails its
 * acknowledgement (or is reported).
 *
 * @module
 */

import type { EngineClient } from "./_event_engine_client.ts";
import { encodePacket, type SioPacket } from "./_event_packets.ts";

/** Packets that may wait for a reconnection. */
const MAX_WAITING = 1000;

/** Outgoing packets of one client. */
export class Outbox {
  #waiting: SioPacket[] = [];

  /**
   * Sends `packet` on `engine` when `connected` and the engine is open;
   * otherwise keeps it for {@linkcode flush}. Throws a `RangeError` when
   * the message is too big for the server, or too many wait.
   */
  send(
    packet: SioPacket,
    engine: EngineClient | undefined,
    connected: boolean,
  ): void {
    if (connected && engine && !engine.closed) {
      engine.send(encodePacket(packet));
      return;
    }
    if (this.#waiting.length >= MAX_WAITING) {
      throw new RangeError(
        `Cannot emit event: ${MAX_WAITING} events already wait for the reconnection`,
      );
    }
    this.#waiting.push(packet);
  }

  /** Sends the waiting packets in order; `onFail` gets the ones refused. */
  flush(
    engine: EngineClient,
    onFail: (packet: SioPacket, error: unknown) => void,
  ): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const packet of waiting) {
      try {
        engine.send(encodePacket(packet));
      } catch (error) {
        onFail(packet, error);
      }
    }
  }

  /** Drops the waiting packets (the client stopped for good). */
  clear(): void {
    this.#waiting = [];
  }
}
