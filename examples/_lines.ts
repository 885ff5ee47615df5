// Shared by the examples: split a byte stream (usually stdin) into lines.

/** Yields the lines of `readable` without their "\n" / "\r\n" endings. */
export async function* readLines(
  readable: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let pending = "";
  for await (const text of readable.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let at: number;
    while ((at = pending.indexOf("\n")) !== -1) {
      yield pending.slice(0, at).replace(/\r$/, "");
      pending = pending.slice(at + 1);
    }
  }
  if (pending) yield pending;
}

/**
 * Asks for a secret on the terminal without echoing it (raw mode), or reads
 * the first line of stdin when stdin is not a terminal.
 */
export async function readSecret(prompt: string): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    for await (const line of readLines(Deno.stdin.readable)) return line;
    return "";
  }
  const encoder = new TextEncoder();
  await Deno.stdout.write(encoder.encode(prompt));
  Deno.stdin.setRaw(true);
  const chars: number[] = [];
  const byte = new Uint8Array(1);
  try {
    while (true) {
      const n = await Deno.stdin.read(byte);
      if (n === null || byte[0] === 13 || byte[0] === 10) break;
      if (byte[0] === 3) Deno.exit(130); // Ctrl-C
      if (byte[0] === 127) chars.pop();
      else chars.push(byte[0]);
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stdout.write(encoder.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(chars));
}
