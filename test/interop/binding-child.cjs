// Runs queries against microsandbox's Node binding (the oracle) in a child process of its own, so the
// native module never loads into the test runner. argv[2]: the .node file. stdin: JSON
// { name, queries: [{ kind: 'logs' | 'stream', options }] }. stdout: JSON, one result per query:
// { entries: [{ timestampMs, source, sessionId, data (base64), cursor }] } or { error }.
'use strict';
const binding = require(process.argv[2]);

function plain(entry) {
  return {
    timestampMs: entry.timestampMs,
    source: entry.source,
    sessionId: entry.sessionId ?? null,
    data: Buffer.from(entry.data).toString('base64'),
    cursor: entry.cursor,
  };
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const { name, queries } = JSON.parse(input);
  const handle = await binding.Sandbox.get(name);
  const results = [];
  for (const query of queries) {
    try {
      if (query.kind === 'logs') {
        results.push({ entries: (await handle.logs(query.options)).map(plain) });
      } else {
        const stream = await handle.logStream(query.options);
        const entries = [];
        for (let entry = await stream.recv(); entry !== null; entry = await stream.recv()) entries.push(plain(entry));
        results.push({ entries });
      }
    } catch (error) {
      results.push({ error: String(error && error.message) });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
  process.stderr.write(`binding-child: ${error && error.message}\n`);
  process.exit(1);
});
