/**
 * The options of {@linkcode Pool}, checked once (private): every invalid
 * option is a `TypeError` naming the field, in one style
 * ("Cannot create Pool: "x" must be ...").
 *
 * @module
 */

import { resolveModule } from "../_internal/run_export.ts";
import type { PoolOptions } from "./pool.ts";

/** The options after validation, with their defaults. */
export interface ParsedPoolOptions {
  module: string;
  size: number;
  maxTasksPerWorker: number | undefined;
  initializer: string | undefined;
  initArgs: unknown[];
  taskTimeout: number | undefined;
  grace: number;
  maxUnstoppable: number;
  isolation: "thread" | "process";
}

function fail(field: string, what: string, value: unknown): never {
  throw new TypeError(
    `Cannot create Pool: "${field}" must be ${what}, got ${String(value)}`,
  );
}

function checkCount(
  field: string,
  value: unknown,
  min: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    fail(field, `an integer >= ${min}`, value);
  }
  return value;
}

export function checkName(field: string, value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `Cannot run task: "${field}" must be a non-empty string, got ${
        String(value)
      }`,
    );
  }
  return value;
}

/**
 * Validates `options` (see {@linkcode PoolOptions}).
 *
 * @throws {TypeError} If an option is invalid (the message names it).
 */
export function parsePoolOptions(options: PoolOptions): ParsedPoolOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      'Cannot create Pool: options must be an object with a "module"',
    );
  }
  const moduleUrl = resolveModule(options.module, "create Pool");
  const size = checkCount("size", options.size, 1) ??
    Math.max(1, navigator.hardwareConcurrency ?? 1);
  const maxTasksPerWorker = checkCount(
    "maxTasksPerWorker",
    options.maxTasksPerWorker,
    1,
  );
  if (
    options.initializer !== undefined &&
    (typeof options.initializer !== "string" || options.initializer === "")
  ) {
    fail(
      "initializer",
      "the name of an exported function",
      options.initializer,
    );
  }
  if (options.initArgs !== undefined && !Array.isArray(options.initArgs)) {
    fail("initArgs", "an array", options.initArgs);
  }
  const timeout = options.taskTimeout;
  if (
    timeout !== undefined && (typeof timeout !== "number" || !(timeout > 0))
  ) {
    fail("taskTimeout", "a number of milliseconds > 0", timeout);
  }
  const grace = options.abortGracePeriod;
  if (grace !== undefined && (typeof grace !== "number" || !(grace >= 0))) {
    fail("abortGracePeriod", "a number of milliseconds >= 0", grace);
  }
  const maxUnstoppable = checkCount(
    "maxUnstoppable",
    options.maxUnstoppable,
    0,
  ) ?? size;
  const isolation = options.isolation ?? "thread";
  if (isolation !== "thread" && isolation !== "process") {
    fail("isolation", '"thread" or "process"', isolation);
  }
  return {
    module: moduleUrl,
    size,
    maxTasksPerWorker,
    initializer: options.initializer,
    initArgs: options.initArgs ?? [],
    taskTimeout: timeout,
    grace: grace ?? 1000,
    maxUnstoppable,
    isolation,
  };
}
