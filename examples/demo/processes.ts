// Demo step: a Manager server process holds a dict and a list; child
// processes (weft Process) update them through proxies, and one reports
// back over a Pipe.
import { Manager, Pipe, Process } from "../../ipc/mod.ts";
import type { DemoStep } from "./step.ts";

const PROCESSES = 3;
const TASK = new URL("../manager_shared/task.ts", import.meta.url);
const ECHO = "data:text/javascript," + encodeURIComponent(
  "export async function echo(conn) { const m = await conn.recv(); await conn.send({ pid: Deno.pid, got: m }); conn.close(); }",
);

export const step: DemoStep = {
  title: "ipc: child processes share a Manager dict/list and talk over a Pipe",
  async run() {
    await using manager = await Manager.start();
    const dict = await manager.dict<string, number>({ total: 0 });
    const list = await manager.list<number>();
    const procs = Array.from(
      { length: PROCESSES },
      (_, i) =>
        new Process({
          module: TASK,
          fn: "work",
          args: [dict, list, [], i + 1],
        }),
    );
    const [here, there] = Pipe();
    const echo = new Process({ module: ECHO, fn: "echo", args: [there] });
    try {
      await Promise.all([...procs, echo].map((p) => p.start()));
      await here.send({ hello: "child", at: new Date(0) });
      const reply = await here.recv() as {
        pid: number;
        got: { hello: string; at: Date };
      };
      await Promise.all([...procs, echo].map((p) => p.join()));
      const codes = [...procs, echo].map((p) => p.exitCode);
      if (codes.some((c) => c !== 0)) throw new Error(`Exit codes ${codes}`);
      const total = await dict.get("total");
      const squares = (await list.toArray()).sort((a, b) => a - b);
      if (total !== 6 || squares.join() !== "1,4,9") {
        throw new Error(
          `Shared state is wrong: total ${total}, list ${squares}`,
        );
      }
      if (
        reply.got.hello !== "child" || !(reply.got.at instanceof Date) ||
        reply.pid === Deno.pid
      ) {
        throw new Error("The Pipe round trip failed");
      }
      return [
        `Manager pid ${manager.pid}; ${PROCESSES} child processes set dict total = ${total}, list = [${
          squares.join(", ")
        }]`,
        `Pipe round trip with child pid ${reply.pid}: a Date and an object crossed intact; all exit codes 0`,
      ];
    } finally {
      for (const p of [...procs, echo]) if (p.isAlive()) p.kill();
      here.close();
    }
  },
};
