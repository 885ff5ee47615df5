/** One step of the demo: a title and a run that returns report lines. */
export interface DemoStep {
  title: string;
  /** Does the work; throws if anything did not behave; returns report lines. */
  run(): Promise<string[]>;
}
