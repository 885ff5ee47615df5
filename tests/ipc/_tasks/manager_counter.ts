// A user class registered with Manager.register() in the tests.
export class Counter {
  #n: number;
  constructor(start = 0) {
    this.#n = start;
  }
  add(k: number): number {
    return this.#n += k;
  }
  get(): number {
    return this.#n;
  }
  _hidden(): string {
    return "private by convention";
  }
}
