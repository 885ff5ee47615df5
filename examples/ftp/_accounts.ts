// Accounts for the FTP-like example: a JSON file of users whose passwords
// are stored only as salted PBKDF2-SHA-256 hashes (never plain text).
//
//   {
//     "users": {
//       "alice": {
//         "salt": "<base64, 16 random bytes>",
//         "iterations": 600000,
//         "hash": "<base64, 32 bytes>",
//         "home": "alice",            // folder under the server's --root
//         "quota": 10485760           // bytes the home folder may hold
//       }
//     }
//   }
//
// Checking a password derives the hash again with the stored salt and
// compares in constant time. An unknown user costs the same PBKDF2 work as a
// known one, so response time does not reveal which user names exist.

/** One user as stored in the accounts file. */
export interface Account {
  salt: string;
  iterations: number;
  hash: string;
  home: string;
  quota: number;
}

/** The accounts file's shape. */
export interface AccountsFile {
  users: Record<string, Account>;
}

/** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA-256. */
export const DEFAULT_ITERATIONS = 600_000;

const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

async function pbkdf2(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

/** Compares two byte strings without stopping at the first difference. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  }
  return diff === 0;
}

/** Builds a stored account from a password (fresh random salt). */
export async function makeAccount(
  password: string,
  home: string,
  quota: number,
  iterations = DEFAULT_ITERATIONS,
): Promise<Account> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await pbkdf2(password, salt, iterations);
  return {
    salt: toBase64(salt),
    iterations,
    hash: toBase64(hash),
    home,
    quota,
  };
}

const DUMMY: Account = {
  salt: toBase64(new Uint8Array(16)),
  iterations: DEFAULT_ITERATIONS,
  hash: toBase64(new Uint8Array(32)),
  home: "",
  quota: 0,
};

/** Returns the account if `password` is right for `user`, else undefined. */
export async function verifyLogin(
  accounts: AccountsFile,
  user: string,
  password: string,
): Promise<Account | undefined> {
  const account = Object.hasOwn(accounts.users, user)
    ? accounts.users[user]
    : undefined;
  const stored = account ?? DUMMY;
  const hash = await pbkdf2(
    password,
    fromBase64(stored.salt),
    stored.iterations,
  );
  const match = constantTimeEqual(hash, fromBase64(stored.hash));
  return account && match ? account : undefined;
}

/** Reads and validates an accounts file (a missing file is empty). */
export async function loadAccounts(path: string): Promise<AccountsFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { users: {} };
    throw error;
  }
  const data = JSON.parse(text) as AccountsFile;
  if (typeof data !== "object" || data === null || !data.users) {
    throw new TypeError(`Cannot read accounts: "${path}" has no "users"`);
  }
  for (const [name, a] of Object.entries(data.users)) {
    if (
      typeof a.salt !== "string" || typeof a.hash !== "string" ||
      !Number.isInteger(a.iterations) || typeof a.home !== "string" ||
      !Number.isFinite(a.quota)
    ) {
      throw new TypeError(`Cannot read accounts: user "${name}" is malformed`);
    }
  }
  return data;
}

/** Writes the accounts file readable by its owner only. */
export async function saveAccounts(
  path: string,
  accounts: AccountsFile,
): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(accounts, null, 2) + "\n", {
    mode: 0o600,
  });
}
