// Every standalone program of the five tutorials (examples/tutorials.json,
// role "standalone") is run exactly as its `run` line says, with flags
// appended that shrink the tutorial's pauses and counts (`--scale`, and
// `--threads`/`--processes`/`--times`/`--rounds` where the tutorial starts
// a hundred threads or loops forever), and its output is checked for what
// the tutorial shows. Later flags win in node:util parseArgs, so the run
// line itself is unchanged.
import assert from "node:assert/strict";
import { runCommand } from "../_helpers.ts";
import { ROOT } from "./_program.ts";

interface Entry {
  seed: string;
  line: number;
  title: string;
  role: string;
  run?: string;
  none?: string;
}

const entries: Entry[] = JSON.parse(
  await Deno.readTextFile(`${ROOT}examples/tutorials.json`),
);

type Check = (lines: string[], out: string) => void;
const count = (lines: string[], re: RegExp) =>
  lines.filter((l) => re.test(l)).length;
const indexOf = (lines: string[], re: RegExp) =>
  lines.findIndex((l) => re.test(l));

/** seed-number:line → [extra flags, check of the output]. */
const CHECKS: Record<string, [string[], Check]> = {
  // examples/socket_basics.ts (added by B1: socket snippets that never talk)
  "000:26": [[], (_l, out) => assert.equal(out, "")],
  "002:60": [[], (l) => assert.match(l[0], /^<socket\.socket .*SOCK_STREAM/)],
  "002:194": [[], (l) => {
    assert.deepEqual(l.slice(0, 5), [
      "b'\\xe9\\xbb\\x91\\xe9\\xa9\\xac1234abc!'",
      "b'\\xe9\\xbb\\x91\\xe9\\xa9\\xac1234abc!'",
      "<class 'bytes'>",
      "黑马1234abc!",
      "b'\\xba\\xda\\xc2\\xed'",
    ]);
    assert.match(
      l[5],
      /^UnicodeDecodeError: 'utf-8' codec can't decode byte 0xba/,
    );
  }],
  "000:240": [["--scale", "0.01", "--rounds", "3"], (l) => {
    assert.equal(count(l, /^runnnnnn$/), 3);
    assert.equal(count(l, /^这是主线程$/), 3);
  }],
  "000:276": [["--times", "20000"], (l) => {
    assert.deepEqual(l, ["运算结果是40000"]);
  }],
  // Scales here leave room for a Worker that starts late on a loaded 2-core
  // machine (starts were seen up to ~250 ms apart under load 11).
  "001:1078": [["--scale", "0.5"], (l) => {
    assert.ok(l.includes("end"));
    assert.ok(indexOf(l, /^stop to listen /) >= 0);
    assert.ok(indexOf(l, /^begin to play game /) >= 0);
    // the daemon thread dies with the program, before its 5 s game ends
    assert.equal(indexOf(l, /^stop to play game /), -1);
  }],
  "001:1121": [["--scale", "0.01"], (l) => {
    assert.deepEqual(
      [...l].sort(),
      ["ending......", "running on number:1", "running on number:2"],
    );
  }],
  "001:1166": [["--scale", "0.1"], (l) => {
    // the main thread's own lines, in order (a started thread may print
    // "begin to ..." between them: its Worker runs while t2 is created)
    const main = l.filter((x) => !/^(begin|stop) to /.test(x));
    assert.deepEqual(main.slice(0, 4), [
      "Thread-1",
      "count: 2",
      "Thread-2",
      "count: 3",
    ]);
    assert.ok(count(l, /^end$/) >= 1);
    assert.ok(indexOf(l, /^stop to listen /) >= 0);
  }],
  "001:1212": [["--scale", "0.01", "--threads", "10"], (l) => {
    assert.equal(count(l, /^ok$/), 10);
    assert.equal(l.at(-1), "0");
  }],
  "001:1245": [["--scale", "0.01"], (l) => {
    assert.equal(l.at(-1), "end");
    const got = l.filter((x) => / got[AB] /.test(x)).map((x) =>
      x.split(" ")[0]
    );
    assert.equal(got.length, 12);
    // the RLock is held across each nested pair: pairs come from one thread
    for (let i = 0; i < got.length; i += 2) assert.equal(got[i], got[i + 1]);
  }],
  // The boss sets the event twice, 6 s apart; every worker is running before
  // the boss starts (start() waits, as in Python). A worker that wakes,
  // sleeps and clears after the boss's second set waits forever (the
  // tutorial's own race, in Python too): 0.3 leaves 1.5 s for that.
  "001:1314": [["--scale", "0.3"], (l) => {
    assert.equal(count(l, /^Worker:唉···命真苦!/), 5);
    assert.equal(count(l, /^Worker:OhYeah!/), 5);
    assert.ok(indexOf(l, /^Boss:可以下班了/) < indexOf(l, /^Worker:OhYeah!/));
    assert.equal(l.at(-1), "end");
  }],
  "001:1357": [["--scale", "0.01", "--threads", "12"], (l) => {
    assert.equal(count(l, /^Thread-\d+ /), 12);
  }],
  "001:1385": [["--scale", "0.01"], (l) => {
    for (let n = 1; n <= 10; n++) {
      assert.ok(l.includes(String(n)), `${n} printed`);
    }
  }],
  "001:1412": [[], (l) => {
    assert.deepEqual(l, ["12", "2", "False", "False"]);
  }],
  "001:1442": [["--scale", "0.01"], (l) => {
    assert.equal(count(l, /^Producer \[alex\] has produced \d+ meat bun/), 10);
    const eaten = l.filter((x) => x.startsWith("lm Consumer"))
      .map((x) => Number(/eat (\d+)/.exec(x)![1]));
    assert.deepEqual(eaten, eaten.map((_, i) => i)); // FIFO, none lost
    assert.equal(eaten.length + count(l, /^---no meat bun anymore/), 10);
  }],
  "001:1506": [["--scale", "0.01", "--processes", "3"], (l) => {
    assert.equal(count(l, /^hello alex /), 3);
    assert.equal(l.at(-1), "end");
  }],
  "001:1530": [["--scale", "0.01"], (l) => {
    for (let i = 1; i <= 3; i++) {
      assert.equal(count(l, new RegExp(`^hello Process-${i} `)), 1);
    }
    assert.equal(l.at(-1), "end");
  }],
  "001:1594": [[], (l) => assert.deepEqual(l, ["123", "456"])],
  "001:1616": [[], (l) => {
    assert.equal(l.length, 4);
    assert.match(l[0], /^q_ID1 /);
    assert.equal(l[1], "[12, {'name': 'alice'}, 'hello']");
    assert.equal(l[2], "response: 早上好!");
    assert.match(l[3], /^q_id2: /);
  }],
  "001:1647": [[], (l) => {
    assert.equal(l.length, 2);
    const keys = [...l[0].matchAll(/(\d+): '1'/g)].map((m) => Number(m[1]));
    assert.deepEqual(keys.sort((a, b) => a - b), [
      0,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      9,
    ]);
    const list = JSON.parse(l[1]) as number[];
    assert.deepEqual(list.slice(0, 5), [0, 1, 2, 3, 4]);
    assert.deepEqual(list.slice(5).sort((a, b) => a - b), [
      0,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      9,
    ]);
  }],
  "001:1676": [[], (l) => {
    assert.deepEqual(
      [...l].sort(),
      Array.from({ length: 10 }, (_, i) => `hello world ${i}`).sort(),
    );
  }],
  "001:1698": [["--scale", "0.01"], (l) => {
    assert.equal(count(l, /^logger:1\r$/), 1);
    assert.equal(count(l, /^logger:None\r$/), 10);
    assert.equal(count(l, /^i = \r \d$/), 10);
    assert.equal(l.at(-1), "end\r");
  }],
  "001:1735": [["--scale", "0.01", "--rounds", "2"], (l) => {
    assert.deepEqual(l, [
      "---->ready to eat meat bun",
      "---->ready to eat meat bun",
      "\x1b[32;1m[producer]\x1b[0m is making meat bun 0 and 1",
      "[alex] is eating meat bun 0",
      "[alice] is eating meat bun 1",
      "\x1b[32;1m[producer]\x1b[0m is making meat bun 2 and 3",
      "[alex] is eating meat bun 2",
      "[alice] is eating meat bun 3",
    ]);
  }],
  "001:1769": [["--scale", "0.01", "--rounds", "2"], (l) => {
    assert.deepEqual(l, [
      "-------A-------",
      "-------B-------",
      "-------A-------",
      "-------B-------",
    ]);
  }],
  "001:1795": [["--scale", "0.01"], (l) => {
    assert.equal(
      count(l, /^GET: http:\/\/127\.0\.0\.1:\d+\/(qq|baidu|taobao)$/),
      3,
    );
    assert.ok(l.some((x) => /^91234 bytes received from .*\/qq\.$/.test(x)));
    assert.ok(l.some((x) => /^2443 bytes received from .*\/baidu\.$/.test(x)));
    assert.ok(
      l.some((x) => /^140776 bytes received from .*\/taobao\.$/.test(x)),
    );
    assert.match(l.at(-1)!, /^cost time: [\d.]+$/);
  }],
  "002:350": [["--times", "1000"], (l) => {
    assert.equal(count(l, /^hello world$/), 1000);
    assert.deepEqual(l.slice(1000), [
      "-".repeat(23),
      "hello python",
      "hello python",
    ]);
  }],
  "002:376": [["--scale", "0.01", "--times", "4"], (l) => {
    assert.equal(count(l, /^正在敲第\d遍代码$/), 3);
    assert.equal(count(l, /^正在听第\d遍音乐$/), 3);
  }],
  "002:418": [["--scale", "0.01", "--times", "3"], (l) => {
    assert.equal(l[0], "Process-1");
    assert.equal(count(l, /^小明 30正在敲第\d遍代码$/), 2);
    assert.equal(count(l, /^某只羊 33正在听第\d遍音乐$/), 2);
  }],
  "002:458": [["--scale", "0.01", "--times", "2"], (l, out) => {
    const main = /main进程的pid(\d+),\1,父进程id\(ppid\):\d+/.exec(out);
    assert.ok(main, out);
    // each child reports the main process as its parent
    assert.equal(
      count(
        l,
        new RegExp(`^p[12]进程的pid\\d+,\\d+,父进程id\\(ppid\\):${main[1]}$`),
      ),
      2,
    );
  }],
  "002:525": [["--scale", "0.01"], (l) => {
    assert.equal(count(l, /^添加数据:\d$/), 5);
    assert.ok(l.includes("read_data函数:[]")); // the other process's list
  }],
  // the child prints right after "started"; 0.3 s before terminate()
  "002:565": [["--scale", "0.3"], (l) => {
    assert.equal(l.at(-1), "main进程结束了");
    const worked = count(l, /^我努力工作中\.{5}$/);
    assert.ok(
      worked >= 1 && worked < 100,
      `${worked} rounds before terminate()`,
    );
  }],
  "002:604": [["--scale", "0.01", "--times", "5"], (l) => {
    assert.equal(count(l, /^正在敲第\d遍代码$/), 4);
    assert.equal(count(l, /^正在听第\d遍音乐$/), 4);
    assert.equal(count(l, /^main\d+$/), 19);
  }],
  "004:20": [["--scale", "0.01"], (l) => {
    assert.deepEqual([...l].sort(), ["aaa is done", "aaa is running", "main"]);
  }],
  "004:21": [["--scale", "0.01"], (l) => {
    assert.deepEqual([...l].sort(), [
      "main",
      "进程1 is done",
      "进程1 is running",
    ]);
  }],
  "004:23": [["--scale", "0.01"], (l) => {
    assert.deepEqual(l, ["aaa is running", "aaa is done", "main"]);
  }],
  "004:25": [["--scale", "0.5"], (l) => {
    assert.deepEqual(l, ["xxx is running", "main"]); // never "xxx is done"
  }],
  "004:26": [["--scale", "0.01"], (l) => {
    assert.ok(l.includes("main") && l.includes("456") && l.includes("end456"));
  }],
  "004:28": [["--scale", "0.01", "--processes", "4"], (l) => {
    assert.equal(count(l, /^\d+查看剩余票数为[01]$/), 4);
    assert.equal(count(l, /^\d+购票成功$/), 1); // one ticket, sold once
  }],
  "004:30": [["--scale", "0.01"], (l) => {
    assert.equal(count(l, /^厨师\[厨师1\]生产了\[包子\d\]$/), 10);
    assert.equal(count(l, /^吃货\[猪1\]吃了\[包子\d\]$/), 10);
    assert.ok(l.includes("main"));
    assert.match(l.at(-1)!, /still waiting/);
  }],
  "004:33": [["--scale", "0.01"], (l) => {
    assert.equal(count(l, /^厨师\[厨师1\]生产了\[包子\d\]$/), 10);
    assert.equal(count(l, /^吃货\[猪1\]吃了\[包子\d\]$/), 10);
    assert.equal(l.at(-1), "main"); // join() returned after the last task_done()
  }],
  "004:43": [["--scale", "0.01"], (l) => {
    assert.deepEqual([...l].sort(), ["main", "xxx is done", "xxx is running"]);
  }],
  "004:44": [["--scale", "0.01"], (l) => {
    assert.deepEqual([...l].sort(), ["main", "xxx is done", "xxx is running"]);
  }],
  "004:50": [["--n", "100000", "--use", "thread"], (l) => {
    assert.match(l[0], /^\d+$/);
    assert.match(l.at(-1)!, /^run time is [\d.]+$/);
  }],
  "004:52": [["--scale", "0.01", "--processes", "3"], (l) => {
    assert.equal(count(l, /^==>$/), 3);
    assert.match(l.at(-1)!, /^run time is [\d.]+$/);
  }],
};

const standalone = entries.filter((e) => e.role === "standalone");

Deno.test("tutorials.json: every standalone program has a run line and a check here", () => {
  const missing = standalone
    .map((e) => `${e.seed.slice(0, 3)}:${e.line}`)
    .filter((k) => !(k in CHECKS));
  assert.deepEqual(missing, []);
  assert.equal(standalone.filter((e) => !e.run).length, 0);
});

for (const entry of standalone) {
  const key = `${entry.seed.slice(0, 3)}:${entry.line}`;
  const check = CHECKS[key];
  if (!check || !entry.run) continue;
  Deno.test(`tutorial ${key} ${entry.title}`, async () => {
    const words = entry.run!.split(/\s+/);
    assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
    const result = await runCommand(
      Deno.execPath(),
      [...words.slice(1), ...check[0]],
      { cwd: ROOT, timeout: 60_000 },
    );
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const text = result.stdout.replace(/\n$/, "");
    check[1](text.split("\n"), text);
  });
}
