// The Socket.IO 5 / Engine.IO 4 packet codec against the examples of the
// protocol's own specification (socket.io-protocol and engine.io-protocol
// READMEs), plus malformed input.

import assert from "node:assert/strict";
import {
  decodePacket,
  decodePayload,
  encodePacket,
  encodePayload,
  PacketError,
  Reassembler,
  SIO,
} from "../../net/_event_packets.ts";

Deno.test("decodePacket() reads the specification's examples", () => {
  assert.deepEqual(decodePacket('0{"token":"123"}', 10), {
    type: SIO.connect,
    nsp: "/",
    data: { token: "123" },
  });
  assert.deepEqual(decodePacket("0/admin,", 10), {
    type: SIO.connect,
    nsp: "/admin",
  });
  assert.deepEqual(decodePacket("1/admin,", 10), {
    type: SIO.disconnect,
    nsp: "/admin",
  });
  assert.deepEqual(decodePacket('2["foo"]', 10), {
    type: SIO.event,
    nsp: "/",
    data: ["foo"],
  });
  assert.deepEqual(decodePacket('2/admin,["bar"]', 10), {
    type: SIO.event,
    nsp: "/admin",
    data: ["bar"],
  });
  assert.deepEqual(decodePacket('212["foo"]', 10), {
    type: SIO.event,
    nsp: "/",
    id: 12,
    data: ["foo"],
  });
  assert.deepEqual(decodePacket('3/admin,13["bar"]', 10), {
    type: SIO.ack,
    nsp: "/admin",
    id: 13,
    data: ["bar"],
  });
  assert.deepEqual(decodePacket('4{"message":"Not authorized"}', 10), {
    type: SIO.connectError,
    nsp: "/",
    data: { message: "Not authorized" },
  });
  const binary = decodePacket('51-["baz",{"_placeholder":true,"num":0}]', 10);
  assert.equal(binary.attachments, 1);
  const r = new Reassembler();
  r.start(binary);
  assert.deepEqual(r.add(new Uint8Array([1, 2, 3]))!.data, [
    "baz",
    new Uint8Array([1, 2, 3]),
  ]);
  assert.deepEqual(
    decodePacket('61-/admin,15[{"_placeholder":true,"num":0}]', 10),
    {
      type: SIO.binaryAck,
      nsp: "/admin",
      id: 15,
      attachments: 1,
      data: [{ _placeholder: true, num: 0 }],
    },
  );
});

Deno.test("encodePacket() writes binary anywhere as placeholders, in order", () => {
  const [text, ...buffers] = encodePacket({
    type: SIO.event,
    nsp: "/admin",
    id: 5,
    data: ["a", { deep: [new Uint8Array([1])] }, new Uint8Array([2, 3]).buffer],
  });
  assert.equal(
    text,
    '52-/admin,5["a",{"deep":[{"_placeholder":true,"num":0}]},{"_placeholder":true,"num":1}]',
  );
  assert.deepEqual(buffers, [new Uint8Array([1]), new Uint8Array([2, 3])]);
  assert.deepEqual(encodePacket({ type: SIO.ack, nsp: "/", id: 7, data: [] }), [
    "37[]",
  ]);
  assert.deepEqual(
    encodePayload(["4hello", new Uint8Array([1, 2, 3])]),
    "4hello\x1ebAQID",
  );
  assert.deepEqual(decodePayload("4hello\x1ebAQID\x1e2"), [
    "4hello",
    new Uint8Array([1, 2, 3]),
    "2",
  ]);
});

Deno.test("decodePacket() refuses malformed packets with PacketError", () => {
  const bad = [
    "",
    "9",
    "2", // EVENT without data
    "2[]", // EVENT without a name
    '2{"a":1}',
    "2[",
    "3[]", // ACK without an id
    '5x-["a"]',
    '599999999-["a"]', // more attachments than allowed
    '0"string"', // CONNECT payload must be an object
  ];
  for (const text of bad) {
    assert.throws(
      () => decodePacket(text, 10),
      PacketError,
      JSON.stringify(text),
    );
  }
  const deep = "[".repeat(100) + "]".repeat(100);
  const packet = decodePacket(`51-["x",${deep}]`, 10);
  const r = new Reassembler();
  r.start(packet);
  assert.throws(() => r.add(new Uint8Array(1)), PacketError); // nested too deeply
  const wrongNum = decodePacket('51-["x",{"_placeholder":true,"num":3}]', 10);
  r.start(wrongNum);
  assert.throws(() => r.add(new Uint8Array(1)), PacketError);
  assert.throws(() => decodePayload("4a\x1e\x1e4b"), PacketError); // empty packet
  assert.throws(() => decodePayload("b!!!"), PacketError); // bad base64
  assert.throws(() => new Reassembler().add(new Uint8Array(1)), PacketError); // unexpected binary
});
