/**
 * The objects a manager server holds (private), by type id: containers
 * (`_manager_containers.ts`), the queue (`_manager_queue.ts`) and the
 * synchronisation objects (`_manager_sync.ts`), on the shared base in
 * `_manager_object_base.ts`.
 *
 * Every class lists the methods a client may call in `static methods`; the
 * server refuses anything else.
 *
 * @module
 */

import type { BuiltinType } from "./_manager_object_base.ts";
import {
  DictObject,
  ListObject,
  NamespaceObject,
  ValueObject,
} from "./_manager_containers.ts";
import { QueueObject } from "./_manager_queue.ts";
import {
  BarrierObject,
  ConditionObject,
  EventObject,
  LockObject,
  RLockObject,
  SemaphoreObject,
} from "./_manager_sync.ts";

export {
  type BuiltinType,
  type CallContext,
  ServerObject,
  type Session,
} from "./_manager_object_base.ts";

/** The built-in type ids. */
export const BUILTIN_TYPES: ReadonlyMap<string, BuiltinType> = new Map<
  string,
  BuiltinType
>([
  ["dict", DictObject as unknown as BuiltinType],
  ["list", ListObject as unknown as BuiltinType],
  ["Namespace", NamespaceObject as unknown as BuiltinType],
  ["Value", ValueObject as unknown as BuiltinType],
  ["Queue", QueueObject as unknown as BuiltinType],
  ["Lock", LockObject as unknown as BuiltinType],
  ["RLock", RLockObject as unknown as BuiltinType],
  ["Semaphore", SemaphoreObject as unknown as BuiltinType],
  ["Event", EventObject as unknown as BuiltinType],
  ["Condition", ConditionObject as unknown as BuiltinType],
  ["Barrier", BarrierObject as unknown as BuiltinType],
]);
