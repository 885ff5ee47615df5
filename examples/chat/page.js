// The chat page's script: plain JavaScript in the browser, talking to
// examples/chat/server.ts through weft's event client (net/event_client.ts,
// served bundled as /event_client.js). Imported by URL at run time: the
// module only exists on the chat server, not as a file next to this one.
const clientUrl = new URL("/event_client.js", location.href).href;
const { EventClient } = await import(clientUrl);

const $ = (id) => document.getElementById(id);
const url = `ws://${location.host}/events`;
const client = new EventClient(url, {
  reconnect: { initialDelay: 250, maxDelay: 5000 },
});
let joined = null; // { name, room } to re-join after a reconnect

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

async function join(name, room) {
  const reply = await client.emit("join", { name, room }, { ack: true });
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
    const m = await client.emit("say", text, { ack: true, timeout: 5000 });
    show(`${m.name}: ${m.text}`, "mine");
  } catch (error) {
    show(`not sent: ${error.message}`, "system");
  }
});
