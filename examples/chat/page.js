// The chat page's script: plain JavaScript in the browser, talking to
// examples/chat/server.ts with the official socket.io-client build (loaded
// by index.html from /socket.io/socket.io.min.js, the global `io`), or with
// weft's own browser client when the page is opened with ?client=weft
// (net/event_client.ts, served bundled as /weft_client.js).
const $ = (id) => document.getElementById(id);
const useWeft = new URLSearchParams(location.search).get("client") === "weft";
let joined = null; // { name, room } to re-join after a reconnect

/** The same small surface over either client: on, call (an acked emit). */
async function makeClient() {
  if (!useWeft) {
    const socket = globalThis.io({ reconnectionDelayMax: 5000 });
    return {
      kind: "socket.io-client",
      on: (event, fn) => socket.on(event, fn),
      call: (event, data) => socket.timeout(5000).emitWithAck(event, data),
    };
  }
  const { EventClient } = await import(
    new URL("/weft_client.js", location.href).href
  );
  const client = new EventClient({ reconnectionDelayMax: 5000 });
  return {
    kind: "weft",
    on: (event, fn) => client.on(event, fn),
    call: (event, data) => client.call(event, data, { timeout: 5000 }),
    connect: () => client.connect(location.origin),
  };
}

function show(text, kind) {
  const item = document.createElement("li");
  item.textContent = text;
  if (kind) item.className = kind;
  $("messages").append(item);
  $("messages").scrollTop = $("messages").scrollHeight;
}

function showMembers(members) {
  $("status").textContent = `in ${joined.room} as ${joined.name} ` +
    `(${members.length} here: ${members.join(", ")})`;
}

const client = await makeClient();
$("client").textContent = client.kind;

async function join(name, room) {
  const reply = await client.call("join", { name, room });
  joined = { name, room: reply.room };
  showMembers(reply.members);
  $("send").disabled = false;
}

client.on("connect", () => {
  $("status").textContent = "connected: pick a name and a room";
  if (joined) {
    join(joined.name, joined.room).catch((e) => show(e.message, "system"));
  }
});
client.on("disconnect", (reason) => {
  $("status").textContent = `disconnected (${reason}), reconnecting…`;
  $("send").disabled = true;
});
client.on("message", (m) => show(`${m.name}: ${m.text}`));
client.on("system", (text) => show(text, "system"));
client.on("members", (members) => joined && showMembers(members));
if (client.connect) client.connect().catch((e) => show(e.message, "system"));

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  $("messages").replaceChildren();
  join($("name").value, $("room").value).catch((e) =>
    show(e.message, "system")
  );
});

$("say-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  try {
    const m = await client.call("say", text);
    if (m.error) show(`not sent: ${m.error}`, "system");
    else show(`${m.name}: ${m.text}`, "mine");
  } catch (error) {
    show(`not sent: ${error.message}`, "system");
  }
});
