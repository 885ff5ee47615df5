// Adds (or replaces) a user in the FTP example's accounts file. The password
// is read from stdin (first line; on a terminal it is asked for without
// echo) and stored only as a salted PBKDF2-SHA-256 hash. A short password
// (the tutorial's accounts.cfg has alex/123 and root/root) is accepted with
// a warning.
//
//   deno run --allow-read=accounts.json --allow-write=accounts.json \
//     examples/ftp/adduser.ts --accounts accounts.json --user alice \
//     [--home alice] [--quota 10485760] < alice.pass
//
// Partner programs: examples/ftp/server.ts reads the file, and
// examples/ftp/client.ts logs in with the same password.

import { parseArgs } from "node:util";
import { loadAccounts, makeAccount, saveAccounts } from "./_accounts.ts";
import { readSecret } from "../_lines.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    accounts: { type: "string" },
    user: { type: "string" },
    home: { type: "string" },
    quota: { type: "string", default: String(10 * 1024 * 1024) },
    iterations: { type: "string" },
  },
});
if (!values.accounts || !values.user) {
  console.error(
    "Usage: adduser.ts --accounts FILE --user NAME [--home DIR] [--quota BYTES] < password",
  );
  Deno.exit(2);
}
const quota = Number(values.quota);
if (!Number.isSafeInteger(quota) || quota < 0) {
  console.error(`Invalid --quota: "${values.quota}"`);
  Deno.exit(2);
}
const home = values.home ?? values.user;
if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(home)) {
  console.error(`Invalid --home: "${home}" must be a plain folder name`);
  Deno.exit(2);
}

const password = await readSecret("password: ");
if (password.length === 0) {
  console.error("Refusing an empty password");
  Deno.exit(1);
}
if (password.length < 8) {
  // The tutorial's accounts use "123" and "root": allowed (the server's
  // guessing limits still apply), but said plainly.
  console.error(
    `warning: a ${password.length}-character password is easy to guess; use 8 or more`,
  );
}

const accounts = await loadAccounts(values.accounts);
accounts.users[values.user] = await makeAccount(
  password,
  home,
  quota,
  values.iterations ? Number(values.iterations) : undefined,
);
await saveAccounts(values.accounts, accounts);
console.log(
  `user "${values.user}" saved (home "${home}", quota ${quota} bytes)`,
);
