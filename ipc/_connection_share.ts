/**
 * Private: how a `Connection`'s transport crosses to a worker or a process
 * and comes back to life there (see "Sharing" in `connection.ts`): a
 * `Pipe` end is rewired (`_pipe_transport.ts`), a movable port is handed
 * over as it is, anything else is relayed (`_relay.ts`).
 *
 * @module
 */
import type { SharedHandle, ShareTarget } from "../_internal/share.ts";
import type { Transport } from "./_wire.ts";
import { connectRelay, relayFor, type RelayHandle } from "./_relay.ts";
import { PortTransport } from "./_port_transport.ts";
import { PipeEnd, reviveEnd } from "./_pipe_transport.ts";

/** The handle kind of a shared `Connection`. */
export const CONNECTION_KIND = "weft.Connection";

/** The connection's options, carried in its handle. */
export interface SharedMeta {
  readable: boolean;
  writable: boolean;
  maxMessageSize: number;
  serializer: "v8" | "pickle";
}

/** The handle moving `transport` (and `meta`) to `target`. */
export function shareTransport(
  transport: Transport,
  target: ShareTarget,
  meta: SharedMeta,
): SharedHandle {
  if (transport instanceof PipeEnd) {
    return { "@@weft": CONNECTION_KIND, ...transport.share(target), ...meta };
  }
  if (
    target === "worker" && transport instanceof PortTransport &&
    transport.transferable
  ) {
    const { port, pending, eof } = transport.detach();
    return {
      "@@weft": CONNECTION_KIND,
      via: "port",
      port,
      pending,
      eof,
      ...meta,
    };
  }
  const via = relayFor(transport, target);
  return { "@@weft": CONNECTION_KIND, ...via, ...meta };
}

/** The transport and options a handle from `shareTransport` describes. */
export function reviveTransport(
  handle: SharedHandle,
): { transport: Transport; meta: Partial<SharedMeta> } {
  const meta = {
    readable: handle.readable as boolean,
    writable: handle.writable as boolean,
    maxMessageSize: handle.maxMessageSize as number,
    serializer: handle.serializer as "v8" | "pickle" | undefined,
  };
  if (handle.via === "ring" || handle.via === "closed") {
    return { transport: reviveEnd(handle), meta };
  }
  if (handle.via === "port") {
    const transport = new PortTransport(
      handle.port as MessagePort,
      handle.pending as Uint8Array[],
      handle.eof as boolean,
    );
    return { transport, meta };
  }
  return { transport: connectRelay(handle as unknown as RelayHandle), meta };
}
