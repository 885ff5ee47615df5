import assert from "node:assert/strict";
import { hmacMd5, md5 } from "../../auth/_md5.ts";
import { hmac } from "../../auth/_hmac.ts";
import { findPython, runCommand } from "../_helpers.ts";

const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const text = (s: string) => new TextEncoder().encode(s);

// ---- md5: RFC 1321 appendix A.5 test suite
Deno.test("md5() matches the RFC 1321 test suite", () => {
  const vectors: [string, string][] = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    [
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      "d174ab98d277d9f5a5611c2c9f419d9f",
    ],
    ["1234567890".repeat(8), "57edf4a22be3c955ac49da2e2107b67a"],
  ];
  for (const [input, digest] of vectors) {
    assert.equal(hex(md5(text(input))), digest);
  }
});

Deno.test("md5() handles every padding boundary (55, 56, 63, 64, 65 bytes)", () => {
  // Values from Python's hashlib.md5(b"a" * n).
  const expected: Record<number, string> = {
    55: "ef1772b6dff9a122358552954ad0df65",
    56: "3b0c8ac703f828b04c6c197006d17218",
    63: "b06521f39153d618550606be297466d5",
    64: "014842d480b571495a4a0363793f7367",
    65: "c743a45e0d2e6a95cb859adae0248435",
  };
  for (const [n, digest] of Object.entries(expected)) {
    assert.equal(hex(md5(text("a".repeat(Number(n))))), digest, `n=${n}`);
  }
});

// ---- hmacMd5: RFC 2104 / RFC 2202 vectors
Deno.test("hmacMd5() matches the RFC 2104/2202 vectors", () => {
  assert.equal(
    hex(hmacMd5(new Uint8Array(16).fill(0x0b), text("Hi There"))),
    "9294727a3638bb1c13f48ef8158bfc9d",
  );
  assert.equal(
    hex(hmacMd5(text("Jefe"), text("what do ya want for nothing?"))),
    "750c783e6ab0b503eaa86e310a5db738",
  );
  assert.equal(
    hex(hmacMd5(new Uint8Array(16).fill(0xaa), new Uint8Array(50).fill(0xdd))),
    "56be34521d144c88dbb8c733f0e8b3f6",
  );
  // Key longer than the block size is hashed first (RFC 2202 test 6).
  assert.equal(
    hex(hmacMd5(
      new Uint8Array(80).fill(0xaa),
      text("Test Using Larger Than Block-Size Key - Hash Key First"),
    )),
    "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
  );
});

const python = findPython("3.11") ?? findPython("3.12");
Deno.test({
  name:
    `hmac() md5/sha256/sha384 agree with Python's hmac on random keys and messages${
      python ? "" : " (ignored: no python3)"
    }`,
  ignore: python === undefined,
  async fn() {
    const cases = [0, 1, 20, 63, 64, 65, 200, 1000].map((n) => ({
      key: crypto.getRandomValues(new Uint8Array(1 + (n * 7) % 150)),
      message: crypto.getRandomValues(new Uint8Array(n)),
    }));
    const script = `
import sys, json, hmac
out = []
for c in json.loads(sys.stdin.read()):
    k, m = bytes.fromhex(c["k"]), bytes.fromhex(c["m"])
    out.append([hmac.new(k, m, d).hexdigest() for d in ("md5", "sha256", "sha384")])
print(json.dumps(out))
`;
    const result = await runCommand(python!, ["-c", script], {
      stdin: JSON.stringify(
        cases.map((c) => ({ k: hex(c.key), m: hex(c.message) })),
      ),
    });
    assert.equal(result.code, 0, result.stderr);
    const expected: string[][] = JSON.parse(result.stdout);
    for (const [i, c] of cases.entries()) {
      const ours = await Promise.all(
        (["md5", "sha256", "sha384"] as const).map(async (d) =>
          hex(await hmac(d, c.key, c.message))
        ),
      );
      assert.deepEqual(ours, expected[i]);
    }
  },
});
