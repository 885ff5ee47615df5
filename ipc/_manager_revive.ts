/**
 * Rebuilding proxies (private): the proxy class for each typeid, the
 * catch-all proxy for registered classes, and the reviver that turns a
 * shared handle back into a connected proxy.
 *
 * @module
 */

import { registerReviver } from "../_internal/share.ts";
import {
  fromHex,
  type Link,
  linkFor,
  type ManagerAddress,
} from "./_manager_net.ts";
import {
  BarrierProxy,
  BaseProxy,
  ConditionProxy,
  DictProxy,
  EventProxy,
  ListProxy,
  LockProxy,
  NamespaceProxy,
  type ObjectProxy,
  QueueProxy,
  RLockProxy,
  SemaphoreProxy,
  ValueProxy,
} from "./manager_proxy.ts";

class GenericProxy extends BaseProxy {
  invoke(method: string, args: unknown[]): Promise<unknown> {
    return this.call(method, args);
  }
}

/** Wraps a generic proxy so any method name becomes a remote call. */
function objectProxy<T>(
  link: Link,
  id: number,
  typeid: string,
): ObjectProxy<T> {
  const base = new GenericProxy(link, id, typeid);
  return new Proxy(base, {
    get(target, property, receiver) {
      if (typeof property === "symbol" || property in target) {
        const value = Reflect.get(target, property, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      }
      if (property === "then") return undefined;
      return (...args: unknown[]) => target.invoke(property, args);
    },
  }) as unknown as ObjectProxy<T>;
}

const PROXY_CLASSES: ReadonlyMap<
  string,
  new (link: Link, id: number, typeid: string) => BaseProxy
> = new Map<string, new (link: Link, id: number, typeid: string) => BaseProxy>([
  ["dict", DictProxy],
  ["list", ListProxy],
  ["Namespace", NamespaceProxy],
  ["Value", ValueProxy],
  ["Queue", QueueProxy],
  ["Lock", LockProxy],
  ["RLock", RLockProxy],
  ["Semaphore", SemaphoreProxy],
  ["Event", EventProxy],
  ["Condition", ConditionProxy],
  ["Barrier", BarrierProxy],
]);

/** Builds the right proxy class for `typeid` (private to weft). */
export function makeProxy(link: Link, id: number, typeid: string): BaseProxy {
  const builtin = PROXY_CLASSES.get(typeid);
  if (builtin !== undefined) return new builtin(link, id, typeid);
  return objectProxy(link, id, typeid);
}

registerReviver("ManagerProxy", (handle) => {
  const { address, authkey, id, typeid } = handle as unknown as {
    address: ManagerAddress;
    authkey: string;
    id: number;
    typeid: string;
  };
  return makeProxy(linkFor(address, fromHex(authkey)), id, typeid);
}, import.meta.url);
