// The demo's steps, in the order they run. One file per step, each
// exporting a `DemoStep`.
import type { DemoStep } from "./step.ts";
import { step as sharing } from "./sharing.ts";

export const steps: DemoStep[] = [sharing];
