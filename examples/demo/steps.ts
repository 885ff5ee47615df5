// The demo's steps, in the order they run. One file per step, each
// exporting a `DemoStep`.
import type { DemoStep } from "./step.ts";
import { step as sharing } from "./sharing.ts";
import { step as netEcho } from "./net_echo.ts";
import { step as udpEcho } from "./udp_echo.ts";
import { step as ftp } from "./ftp.ts";
import { step as threads } from "./threads.ts";
import { step as pool } from "./pool.ts";
import { step as processes } from "./processes.ts";
import { step as auth } from "./auth.ts";

export const steps: DemoStep[] = [
  sharing,
  netEcho,
  udpEcho,
  ftp,
  threads,
  pool,
  processes,
  auth,
];
