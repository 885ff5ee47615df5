// The unpickler: a stack machine over protocols 0-5 that never imports or
// calls anything. Globals resolve only through the allow-list (the caller's
// `globals`, then _pickle_globals.ts); their "calls" run the handler given
// there (_pickle_calls.ts). No recursion: nesting depth costs heap, never JS
// stack.

import * as op from "./_pickle_opcodes.ts";
import {
  PyFloat,
  PyFrozenSet,
  PyGlobal,
  PyReduce,
  Tuple,
} from "./pickle_values.ts";
import {
  type _Context,
  type _Handler,
  _objectKey,
  type _ReadOptions,
  describe,
  fail,
  FIX_MODULES,
  intFromBytes,
  isPlainObject,
  shown,
} from "./_pickle_common.ts";
import { _decodeUtf8, _latin1 } from "./_pickle_text.ts";
import { _legacyValue, NOT_LEGACY } from "./_pickle_legacy.ts";
import { _Calls } from "./_pickle_calls.ts";

/** Decodes one pickle. */
export function _read(data: Uint8Array, options: _ReadOptions): unknown {
  return new _Reader(data, options).run();
}

class _Reader implements _Context {
  proto = 0;
  #data: Uint8Array;
  #view: DataView;
  #pos = 0;
  #stack: unknown[] = [];
  #marks: number[] = [];
  #base = 0; // stack index of the innermost mark
  #memo: unknown[] = [];
  #sparse: Map<number, unknown> | null = null;
  #options: _ReadOptions;
  // Side tables, created on first use (most pickles need none of them).
  #calls: _Calls | null = null; // REDUCE, BUILD...: created on first use
  #putIndex: Map<object, number> | null = null; // memo slot of plain-object dicts
  #gets: Map<object, number> | null = null; // memo fetches of plain-object dicts

  constructor(data: Uint8Array, options: _ReadOptions) {
    this.#data = data;
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.#options = options;
  }

  // ---- input ------------------------------------------------------------

  #need(n: number): number {
    const start = this.#pos;
    if (n > this.#data.length - start) {
      fail(
        n > 0xffff
          ? `a length of ${n} bytes is declared but only ${
            this.#data.length - start
          } remain`
          : "the pickle is truncated",
      );
    }
    this.#pos = start + n;
    return start;
  }

  #line(): string {
    const start = this.#pos;
    const end = this.#data.indexOf(0x0a, start);
    if (end < 0) fail("the pickle is truncated (missing newline)");
    this.#pos = end + 1;
    let stop = end;
    if (stop > start && this.#data[stop - 1] === 0x0d) stop--;
    return _latin1(this.#data, start, stop);
  }

  #utf8Line(): string {
    const start = this.#pos;
    const end = this.#data.indexOf(0x0a, start);
    if (end < 0) fail("the pickle is truncated (missing newline)");
    this.#pos = end + 1;
    const text = _decodeUtf8(this.#data, start, end);
    if (text === null) fail("a global name is not valid UTF-8");
    return text;
  }

  #length8(): number {
    const at = this.#need(8);
    const lo = this.#view.getUint32(at, true);
    const hi = this.#view.getUint32(at + 4, true);
    const n = hi * 2 ** 32 + lo;
    if (hi >= 2 ** 21 || n > this.#data.length - this.#pos) {
      fail(
        `a length of ${
          hi >= 2 ** 21 ? "over 2**53" : n
        } bytes is declared but only ${this.#data.length - this.#pos} remain`,
      );
    }
    return n;
  }

  #str(n: number): string {
    const at = this.#need(n);
    const text = _decodeUtf8(this.#data, at, at + n);
    if (text === null) fail("a str is not valid UTF-8");
    return text;
  }

  #bytes(n: number): Uint8Array {
    const at = this.#need(n);
    return this.#data.slice(at, at + n);
  }

  // ---- stack ------------------------------------------------------------

  #pop(): unknown {
    if (this.#stack.length <= this.#base) fail("stack underflow");
    return this.#stack.pop();
  }

  #top(): unknown {
    if (this.#stack.length <= this.#base) fail("stack underflow");
    return this.#stack[this.#stack.length - 1];
  }

  #popMark(): unknown[] {
    if (this.#marks.length === 0) fail("no MARK on the stack");
    const start = this.#base;
    this.#base = this.#marks.pop()!;
    const items = this.#stack.slice(start);
    this.#stack.length = start;
    return items;
  }

  // The _LegacyInput used by _pickle_legacy.ts.
  get data(): Uint8Array {
    return this.#data;
  }
  get view(): DataView {
    return this.#view;
  }
  need(n: number): number {
    return this.#need(n);
  }
  line(): string {
    return this.#line();
  }
  float(v: number): unknown {
    return this.#float(v);
  }

  #float(v: number): unknown {
    return this.#options.exactFloats && Number.isSafeInteger(v) &&
        !Object.is(v, -0)
      ? new PyFloat(v)
      : v;
  }

  // ---- memo -------------------------------------------------------------

  #put(index: number): void {
    const value = this.#top();
    if (index === this.#memo.length) this.#memo.push(value);
    else if (index < this.#memo.length) this.#memo[index] = value;
    else (this.#sparse ??= new Map()).set(index, value);
    if (!this.#options.mapDicts && isPlainObject(value)) {
      (this.#putIndex ??= new Map()).set(value, index);
    }
  }

  #get(index: number): void {
    const value = index < this.#memo.length
      ? this.#memo[index]
      : this.#sparse?.get(index);
    if (value === undefined) fail(`memo key ${index} is missing`);
    if (!this.#options.mapDicts && isPlainObject(value)) {
      this.#countGet(value);
    }
    this.#stack.push(value);
  }

  // ---- globals ------------------------------------------------------------

  #countGet(value: object): void {
    const gets = this.#gets ??= new Map();
    gets.set(value, (gets.get(value) ?? 0) + 1);
  }

  resolve(module: string, name: string): PyGlobal {
    if (this.proto < 3) module = FIX_MODULES[module] ?? module;
    const full = shown(`${module}.${name}`);
    if (
      /[\s]/.test(module) || /[\s]/.test(name) || module === "" || name === ""
    ) {
      fail(`global ${full} is not allowed`);
    }
    if (this.#options.lookup(`${module} ${name}`) === undefined) {
      fail(`global ${full} is not allowed`);
    }
    return new PyGlobal(module, name);
  }

  // ---- containers ---------------------------------------------------------

  #appends(target: unknown, items: unknown[]): void {
    if (Array.isArray(target) && !(target instanceof Tuple)) {
      for (let i = 0; i < items.length; i++) target.push(items[i]);
    } else if (target instanceof PyReduce) {
      for (let i = 0; i < items.length; i++) target.listItems.push(items[i]);
    } else fail(`APPEND on ${describe(target)}`);
  }

  /** Sets stack[from..] pairs into the dict at stack[at]. */
  #setItems(at: number, from: number): void {
    const stack = this.#stack;
    const target = stack[at];
    if ((stack.length - from) % 2 !== 0) fail("SETITEMS needs key/value pairs");
    if (target instanceof Map) {
      for (let i = from; i < stack.length; i += 2) {
        target.set(stack[i], stack[i + 1]);
      }
    } else if (target instanceof PyReduce) {
      for (let i = from; i < stack.length; i += 2) {
        target.dictItems.push([stack[i], stack[i + 1]]);
      }
    } else if (isPlainObject(target)) {
      for (let i = from; i < stack.length; i += 2) {
        const key = stack[i];
        if (_objectKey(key)) {
          target[key] = stack[i + 1];
        } else {
          const map = this.#toMap(target, at, i);
          for (let j = i; j < stack.length; j += 2) {
            map.set(stack[j], stack[j + 1]);
          }
          break;
        }
      }
    } else fail(`SETITEM on ${describe(target)}`);
    stack.length = from;
  }

  /** Turns a dict built as a plain object into a Map (a key it cannot keep). */
  #toMap(
    obj: Record<string, unknown>,
    at: number,
    from: number,
  ): Map<unknown, unknown> {
    const map = new Map<unknown, unknown>();
    let replaced = 0;
    for (const key of Object.keys(obj)) {
      const value = obj[key];
      if (value === obj) replaced++;
      map.set(key, value === obj ? map : value);
    }
    const stack = this.#stack;
    stack[at] = map;
    for (let i = from; i < stack.length; i++) {
      if (stack[i] === obj) {
        stack[i] = map;
        replaced++;
      }
    }
    if ((this.#gets?.get(obj) ?? 0) > replaced) {
      fail(
        'a dict with non-str keys is referenced before it is complete; decode with dicts: "map"',
      );
    }
    const index = this.#putIndex?.get(obj);
    if (index !== undefined) {
      if (index < this.#memo.length) this.#memo[index] = map;
      else this.#sparse?.set(index, map);
    }
    return map;
  }

  #newDict(): unknown {
    return this.#options.mapDicts ? new Map() : {};
  }

  // ---- main loop ------------------------------------------------------------

  run(): unknown {
    const data = this.#data;
    const view = this.#view;
    const stack = this.#stack;
    while (true) {
      if (this.#pos >= data.length) fail("the pickle is truncated (no STOP)");
      const code = data[this.#pos++];
      switch (code) {
        case op.PROTO: {
          const v = data[this.#need(1)];
          if (v > op.HIGHEST_PROTOCOL) fail(`unsupported protocol ${v}`);
          this.proto = v;
          break;
        }
        case op.FRAME:
          this.#length8(); // frames only group opcodes; the length is checked
          break;
        case op.STOP: {
          if (stack.length <= this.#base) fail("stack underflow at STOP");
          return stack.pop();
        }
        case op.MARK:
          this.#marks.push(this.#base);
          this.#base = stack.length;
          break;
        case op.POP:
          if (stack.length > this.#base) stack.pop();
          else this.#popMark();
          break;
        case op.POP_MARK:
          this.#popMark();
          break;
        case op.DUP: {
          const v = this.#top();
          if (!this.#options.mapDicts && isPlainObject(v)) {
            this.#countGet(v);
          }
          stack.push(v);
          break;
        }
        // -- scalars
        case op.NONE:
          stack.push(null);
          break;
        case op.NEWTRUE:
          stack.push(true);
          break;
        case op.NEWFALSE:
          stack.push(false);
          break;
        case op.BININT1:
          stack.push(data[this.#need(1)]);
          break;
        case op.BININT2:
          stack.push(view.getUint16(this.#need(2), true));
          break;
        case op.BININT:
          stack.push(view.getInt32(this.#need(4), true));
          break;
        case op.LONG1: {
          const n = data[this.#need(1)];
          stack.push(intFromBytes(data, this.#need(n), n));
          break;
        }
        case op.LONG4: {
          const n = view.getInt32(this.#need(4), true);
          if (n < 0) fail("LONG4 has a negative length");
          stack.push(intFromBytes(data, this.#need(n), n));
          break;
        }
        case op.BINFLOAT:
          stack.push(this.#float(view.getFloat64(this.#need(8), false)));
          break;
        case op.SHORT_BINUNICODE:
          stack.push(this.#str(data[this.#need(1)]));
          break;
        case op.BINUNICODE:
          stack.push(this.#str(view.getUint32(this.#need(4), true)));
          break;
        case op.BINUNICODE8:
          stack.push(this.#str(this.#length8()));
          break;
        case op.SHORT_BINBYTES:
          stack.push(this.#bytes(data[this.#need(1)]));
          break;
        case op.BINBYTES:
          stack.push(this.#bytes(view.getUint32(this.#need(4), true)));
          break;
        case op.BINBYTES8:
          stack.push(this.#bytes(this.#length8()));
          break;
        case op.BYTEARRAY8: {
          const bytes = this.#bytes(this.#length8());
          stack.push(this.#callsOf().call0("builtins bytearray", bytes, this));
          break;
        }
        case op.NEXT_BUFFER:
        case op.READONLY_BUFFER:
          fail(
            "out-of-band buffers (protocol 5 buffer_callback) are not supported",
          );
          break;
        // -- containers
        case op.EMPTY_LIST:
          stack.push([]);
          break;
        case op.EMPTY_TUPLE:
          stack.push(new Tuple());
          break;
        case op.EMPTY_DICT:
          stack.push(this.#newDict());
          break;
        case op.EMPTY_SET:
          stack.push(new Set());
          break;
        case op.LIST:
          stack.push(this.#popMark());
          break;
        case op.TUPLE: {
          const items = this.#popMark();
          const t = new Tuple();
          for (let i = 0; i < items.length; i++) t.push(items[i]);
          stack.push(t);
          break;
        }
        case op.TUPLE1:
        case op.TUPLE2:
        case op.TUPLE3: {
          const n = code - op.TUPLE1 + 1;
          if (stack.length - n < this.#base) fail("stack underflow");
          const t = new Tuple();
          for (let i = 0; i < n; i++) t.push(stack[stack.length - n + i]);
          stack.length -= n;
          stack.push(t);
          break;
        }
        case op.DICT: {
          if (this.#marks.length === 0) fail("no MARK on the stack");
          const from = this.#base;
          this.#base = this.#marks.pop()!;
          stack.splice(from, 0, this.#newDict()); // the dict goes below its pairs
          this.#setItems(from, from + 1);
          break;
        }
        case op.FROZENSET:
          stack.push(new PyFrozenSet(this.#popMark()));
          break;
        case op.APPEND: {
          const v = this.#pop();
          this.#appends(this.#top(), [v]);
          break;
        }
        case op.APPENDS: {
          const items = this.#popMark();
          this.#appends(this.#top(), items);
          break;
        }
        case op.SETITEM: {
          if (stack.length - 3 < this.#base) fail("stack underflow");
          this.#setItems(stack.length - 3, stack.length - 2);
          break;
        }
        case op.SETITEMS: {
          if (this.#marks.length === 0) fail("no MARK on the stack");
          const from = this.#base;
          this.#base = this.#marks.pop()!;
          if (from - 1 < this.#base) fail("stack underflow");
          this.#setItems(from - 1, from);
          break;
        }
        case op.ADDITEMS: {
          const items = this.#popMark();
          const target = this.#top();
          if (!(target instanceof Set) || target instanceof PyFrozenSet) {
            fail(`ADDITEMS on ${describe(target)}`);
          }
          for (let i = 0; i < items.length; i++) target.add(items[i]);
          break;
        }
        // -- memo
        case op.MEMOIZE:
          this.#put(this.#memo.length);
          break;
        case op.BINPUT:
          this.#put(data[this.#need(1)]);
          break;
        case op.LONG_BINPUT:
          this.#put(view.getUint32(this.#need(4), true));
          break;
        case op.PUT:
          this.#put(this.#index(this.#line()));
          break;
        case op.BINGET:
          this.#get(data[this.#need(1)]);
          break;
        case op.LONG_BINGET:
          this.#get(view.getUint32(this.#need(4), true));
          break;
        case op.GET:
          this.#get(this.#index(this.#line()));
          break;
        // -- objects
        case op.GLOBAL: {
          const module = this.#utf8Line();
          const name = this.#utf8Line();
          stack.push(this.resolve(module, name));
          break;
        }
        case op.STACK_GLOBAL: {
          const name = this.#pop();
          const module = this.#pop();
          if (typeof module !== "string" || typeof name !== "string") {
            fail("STACK_GLOBAL needs two str");
          }
          stack.push(this.resolve(module, name));
          break;
        }
        case op.REDUCE: {
          const args = this.#pop();
          stack.push(this.#callsOf().call(this.#pop(), args, "REDUCE", this));
          break;
        }
        case op.NEWOBJ: {
          const args = this.#pop();
          stack.push(this.#callsOf().newobj(this.#pop(), args, null));
          break;
        }
        case op.NEWOBJ_EX: {
          const kwargs = this.#pop();
          const args = this.#pop();
          stack.push(this.#callsOf().newobj(this.#pop(), args, kwargs));
          break;
        }
        case op.BUILD: {
          const state = this.#pop();
          const target = this.#top();
          stack[stack.length - 1] = this.#callsOf().build(target, state);
          break;
        }
        case op.INST: {
          const g = this.resolve(this.#utf8Line(), this.#utf8Line());
          stack.push(this.#callsOf().call(g, this.#popMark(), "INST", this));
          break;
        }
        case op.OBJ: {
          const items = this.#popMark();
          if (items.length === 0) fail("OBJ needs a class");
          stack.push(
            this.#callsOf().call(items[0], items.slice(1), "OBJ", this),
          );
          break;
        }
        case op.PERSID:
        case op.BINPERSID:
          fail("persistent IDs are not supported");
          break;
        case op.EXT1:
        case op.EXT2:
        case op.EXT4:
          fail("the extension registry (EXT1/EXT2/EXT4) is not supported");
          break;
        default: {
          // Protocol 0/1 text opcodes live in _pickle_legacy.ts.
          const value = _legacyValue(code, this);
          if (value === NOT_LEGACY) {
            fail(
              `unknown opcode 0x${code.toString(16).padStart(2, "0")} at byte ${
                this.#pos - 1
              }`,
            );
          }
          stack.push(value);
        }
      }
    }
  }

  #callsOf(): _Calls {
    return this.#calls ??= new _Calls(this.#options);
  }

  #index(text: string): number {
    if (!/^\d{1,10}$/.test(text)) fail(`invalid memo key ${shown(text)}`);
    return Number(text);
  }
}
