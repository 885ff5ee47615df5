// datetime <-> Temporal for the pickle codec. Decoding: the allow-listed
// `datetime.*` calls become Temporal values. Encoding: Temporal values (and
// Date) become the PyReduce recipe Python's datetime pickles with.

import { PicklingError } from "./pickle_error.ts";
import { PyGlobal, PyReduce } from "./pickle_values.ts";

const DATETIME = new PyGlobal("datetime", "datetime");
const DATE = new PyGlobal("datetime", "date");
const TIME = new PyGlobal("datetime", "time");
const TIMEDELTA = new PyGlobal("datetime", "timedelta");
const TIMEZONE = new PyGlobal("datetime", "timezone");
const ZONEINFO = new PyGlobal("zoneinfo", "ZoneInfo._unpickle");

const US_PER_DAY = 86_400_000_000n;

function int(value: unknown, what: string): number {
  if (typeof value === "bigint") value = Number(value);
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${what} must be an int`);
  }
  return value;
}

function stateBytes(value: unknown, length: number, what: string): Uint8Array {
  const bytes = typeof value === "string"
    ? Uint8Array.from(value, (c) => c.charCodeAt(0) & 0xff) // Python 2 str state
    : value;
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new TypeError(`${what} state must be ${length} bytes`);
  }
  return bytes;
}

// ---- decoding --------------------------------------------------------------

/** `timedelta(days, seconds, microseconds)` → `Temporal.Duration`. */
export function _timedelta(args: unknown[]): Temporal.Duration {
  const days = int(args[0] ?? 0, "days");
  const seconds = int(args[1] ?? 0, "seconds");
  const us = int(args[2] ?? 0, "microseconds");
  if (Math.abs(days) > 999_999_999) throw new RangeError("days out of range");
  let total = BigInt(days) * US_PER_DAY + BigInt(seconds) * 1_000_000n +
    BigInt(us);
  const negative = total < 0n;
  if (negative) total = -total;
  const d = Number(total / US_PER_DAY);
  let rest = Number(total % US_PER_DAY);
  const micro = rest % 1000;
  rest = (rest - micro) / 1000;
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const sec = rest % 60;
  rest = (rest - sec) / 60;
  const min = rest % 60;
  const hours = (rest - min) / 60;
  const duration = new Temporal.Duration(
    0,
    0,
    0,
    d,
    hours,
    min,
    sec,
    milli,
    micro,
    0,
  );
  return negative ? duration.negated() : duration;
}

function totalMicroseconds(duration: Temporal.Duration): bigint {
  if (duration.years !== 0 || duration.months !== 0) {
    throw new PicklingError(
      "Cannot pickle Temporal.Duration: years and months have no timedelta equivalent",
    );
  }
  return BigInt(duration.weeks * 7 + duration.days) * US_PER_DAY +
    BigInt(duration.hours) * 3_600_000_000n +
    BigInt(duration.minutes) * 60_000_000n +
    BigInt(duration.seconds) * 1_000_000n +
    BigInt(duration.milliseconds) * 1000n +
    BigInt(duration.microseconds) +
    BigInt(Math.trunc(duration.nanoseconds / 1000));
}

/** The time zone id of a decoded tzinfo, or `null` if it has none in Temporal. */
function zoneId(tz: unknown): string | null {
  if (!(tz instanceof PyReduce) || tz.newobj) return null;
  if (tz.callable.key === TIMEZONE.key) {
    const offset = tz.args[0];
    if (!(offset instanceof Temporal.Duration)) return null;
    const us = totalMicroseconds(offset);
    if (us === 0n) return "UTC";
    if (us % 60_000_000n !== 0n) return null; // Temporal offsets are whole minutes
    const minutes = Number(us / 60_000_000n);
    const abs = Math.abs(minutes);
    const hh = String(Math.floor(abs / 60)).padStart(2, "0");
    const mm = String(abs % 60).padStart(2, "0");
    return `${minutes < 0 ? "-" : "+"}${hh}:${mm}`;
  }
  if (tz.callable.key === ZONEINFO.key && typeof tz.args[0] === "string") {
    return tz.args[0];
  }
  return null;
}

/** `datetime(state[, tz])` or `datetime(y, m, d, ...)` → Temporal (or inert). */
export function _datetime(args: unknown[]): unknown {
  let f: number[];
  let fold = 0;
  let tz: unknown;
  if (args[0] instanceof Uint8Array || typeof args[0] === "string") {
    const s = stateBytes(args[0], 10, "datetime");
    fold = s[2] >> 7;
    f = [
      s[0] * 256 + s[1],
      s[2] & 0x7f,
      s[3],
      s[4],
      s[5],
      s[6],
      (s[7] << 16) | (s[8] << 8) | s[9],
    ];
    tz = args[1] ?? null;
  } else {
    f = [0, 1, 2, 3, 4, 5, 6].map((i) => int(args[i] ?? 0, "datetime field"));
    tz = args[7] ?? null;
  }
  const [year, month, day, hour, minute, second, us] = f;
  if (year < 1 || year > 9999) {
    throw new RangeError(`year ${year} is out of range`);
  }
  const plain = new Temporal.PlainDateTime(
    year,
    month,
    day,
    hour,
    minute,
    second,
    Math.floor(us / 1000),
    us % 1000,
    0,
  );
  if (tz === null) return plain;
  const id = zoneId(tz);
  if (id !== null) {
    try {
      // fold picks the first or second of an ambiguous wall time (PEP 495).
      const earlier = plain.toZonedDateTime(id, { disambiguation: "earlier" });
      if (earlier.toPlainDateTime().equals(plain)) {
        return fold
          ? plain.toZonedDateTime(id, { disambiguation: "later" })
          : earlier;
      }
      // A wall time in a DST gap: Temporal would move it; keep the recipe.
    } catch {
      // An IANA zone Temporal does not know: keep the recipe.
    }
  }
  return new PyReduce(DATETIME, args);
}

/** `date(state)` or `date(y, m, d)` → `Temporal.PlainDate`. */
export function _date(args: unknown[]): Temporal.PlainDate {
  if (args[0] instanceof Uint8Array || typeof args[0] === "string") {
    const s = stateBytes(args[0], 4, "date");
    return new Temporal.PlainDate(s[0] * 256 + s[1], s[2], s[3]);
  }
  return new Temporal.PlainDate(
    int(args[0], "year"),
    int(args[1], "month"),
    int(args[2], "day"),
  );
}

/** `time(state[, tz])` → `Temporal.PlainTime` (aware: inert recipe). */
export function _time(args: unknown[]): unknown {
  let f: number[];
  let tz: unknown;
  if (args[0] instanceof Uint8Array || typeof args[0] === "string") {
    const s = stateBytes(args[0], 6, "time");
    f = [s[0] & 0x7f, s[1], s[2], (s[3] << 16) | (s[4] << 8) | s[5]];
    tz = args[1] ?? null;
  } else {
    f = [0, 1, 2, 3].map((i) => int(args[i] ?? 0, "time field"));
    tz = args[4] ?? null;
  }
  if (tz !== null) return new PyReduce(TIME, args);
  const [h, m, s, us] = f;
  return new Temporal.PlainTime(h, m, s, Math.floor(us / 1000), us % 1000, 0);
}

// ---- encoding --------------------------------------------------------------

function dateTimeState(p: Temporal.PlainDateTime, fold: number): Uint8Array {
  if (p.year < 1 || p.year > 9999) {
    throw new PicklingError(
      `Cannot pickle datetime: year ${p.year} is outside 1..9999`,
    );
  }
  const us = p.millisecond * 1000 + p.microsecond;
  return new Uint8Array([
    p.year >> 8,
    p.year & 0xff,
    p.month | (fold << 7),
    p.day,
    p.hour,
    p.minute,
    p.second,
    us >> 16,
    (us >> 8) & 0xff,
    us & 0xff,
  ]);
}

function timedelta(us: bigint): PyReduce {
  let days = us / US_PER_DAY;
  let rest = us % US_PER_DAY;
  if (rest < 0n) {
    rest += US_PER_DAY;
    days -= 1n;
  }
  return new PyReduce(TIMEDELTA, [
    Number(days),
    Number(rest / 1_000_000n),
    Number(rest % 1_000_000n),
  ]);
}

function tzinfo(id: string): PyReduce {
  if (id === "UTC") return new PyReduce(TIMEZONE, [timedelta(0n)]);
  const m = /^([+-])(\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d{1,9}))?)?$/.exec(id);
  if (m) {
    const sign = m[1] === "-" ? -1n : 1n;
    const seconds = BigInt(
      Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0),
    );
    const us = BigInt((m[5] ?? "").padEnd(6, "0").slice(0, 6) || "0");
    return new PyReduce(TIMEZONE, [
      timedelta(sign * (seconds * 1_000_000n + us)),
    ]);
  }
  return new PyReduce(ZONEINFO, [id, 1]);
}

/**
 * The Python recipe of a Temporal value or Date, or `undefined` if `value`
 * is none of those. `proto` decides whether `fold` is written (as Python).
 */
export function _temporalRecipe(
  value: object,
  proto: number,
): PyReduce | undefined {
  if (typeof Temporal === "undefined") {
    return value instanceof Date ? dateRecipe(value) : undefined;
  }
  if (value instanceof Temporal.PlainDateTime) {
    return new PyReduce(DATETIME, [dateTimeState(value, 0)]);
  }
  if (value instanceof Temporal.ZonedDateTime) {
    const plain = value.toPlainDateTime();
    let fold = 0;
    if (
      proto > 3 && !value.timeZoneId.startsWith("+") &&
      !value.timeZoneId.startsWith("-")
    ) {
      const earlier = plain.toZonedDateTime(value.timeZoneId, {
        disambiguation: "earlier",
      });
      fold = earlier.epochNanoseconds === value.epochNanoseconds ? 0 : 1;
    }
    return new PyReduce(DATETIME, [
      dateTimeState(plain, fold),
      tzinfo(value.timeZoneId),
    ]);
  }
  if (value instanceof Temporal.PlainDate) {
    if (value.year < 1 || value.year > 9999) {
      throw new PicklingError(
        `Cannot pickle date: year ${value.year} is outside 1..9999`,
      );
    }
    return new PyReduce(DATE, [
      new Uint8Array([
        value.year >> 8,
        value.year & 0xff,
        value.month,
        value.day,
      ]),
    ]);
  }
  if (value instanceof Temporal.PlainTime) {
    const us = value.millisecond * 1000 + value.microsecond;
    return new PyReduce(TIME, [
      new Uint8Array([
        value.hour,
        value.minute,
        value.second,
        us >> 16,
        (us >> 8) & 0xff,
        us & 0xff,
      ]),
    ]);
  }
  if (value instanceof Temporal.Duration) {
    const us = totalMicroseconds(value);
    if (us / US_PER_DAY > 999_999_999n || us / US_PER_DAY < -999_999_999n) {
      throw new PicklingError(
        "Cannot pickle Temporal.Duration: it exceeds timedelta's range",
      );
    }
    return timedelta(us);
  }
  if (value instanceof Temporal.Instant) {
    return _temporalRecipe(value.toZonedDateTimeISO("UTC"), proto);
  }
  if (value instanceof Date) return dateRecipe(value);
  return undefined;
}

function dateRecipe(value: Date): PyReduce {
  const ms = value.getTime();
  if (Number.isNaN(ms)) {
    throw new PicklingError("Cannot pickle Date: it is invalid");
  }
  const year = value.getUTCFullYear();
  if (year < 1 || year > 9999) {
    throw new PicklingError(
      `Cannot pickle Date: year ${year} is outside 1..9999`,
    );
  }
  const us = value.getUTCMilliseconds() * 1000;
  return new PyReduce(DATETIME, [
    new Uint8Array([
      year >> 8,
      year & 0xff,
      value.getUTCMonth() + 1,
      value.getUTCDate(),
      value.getUTCHours(),
      value.getUTCMinutes(),
      value.getUTCSeconds(),
      us >> 16,
      (us >> 8) & 0xff,
      us & 0xff,
    ]),
    tzinfo("UTC"),
  ]);
}
