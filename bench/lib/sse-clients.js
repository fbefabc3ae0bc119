// SSE clients for the server benchmark, in their own process: opens CLIENTS
// connections to URL, counts the entry events (`id:` lines) each receives, and
// prints { ms, events } once every client has seen EXPECTED events.
// Usage: node sse-clients.js URL CLIENTS EXPECTED
import { request } from 'node:http';

const [url, clientsText, expectedText] = process.argv.slice(2);
const clients = Number(clientsText);
const expected = Number(expectedText);
const ID = Buffer.from('\nid: ');
let complete = 0;
let events = 0;
const start = process.hrtime.bigint();
const sockets = [];

function finish() {
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  process.stdout.write(`${JSON.stringify({ ms, events })}\n`);
  for (const response of sockets) response.destroy();
  process.exit(0);
}

for (let c = 0; c < clients; c++) {
  request(url, (response) => {
    sockets.push(response);
    let seen = 0;
    let carry = Buffer.alloc(0);
    response.on('data', (chunk) => {
      const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      let at = data.indexOf(ID);
      let count = 0;
      while (at >= 0) {
        count += 1;
        at = data.indexOf(ID, at + ID.length);
      }
      carry = data.subarray(Math.max(0, data.length - (ID.length - 1)));
      seen += count;
      events += count;
      if (seen >= expected && count > 0 && seen - count < expected) {
        complete += 1;
        if (complete === clients) finish();
      }
    });
  }).end();
}
