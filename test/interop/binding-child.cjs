// Runs queries against microsandbox's Node binding (the oracle) in a child process of its own, so the
// native module never loads into the test runner. argv[2]: the .node file. stdin: JSON
// { name, queries: [{ kind: 'logs' | 'stream', options, take? }] }. stdout: JSON, one result per query:
// { entries: [{ timestampMs, source, sessionId, data (base64), cursor }] } or { error }. A stream query
// with `take` stops after that many entries, with `stopAfter` after the first entry whose data holds that
// text (a following stream never ends by itself); with `progress`,
// each entry is also written to stderr as `entry <n>` as it arrives.
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
        const take = query.take ?? Infinity;
        while (entries.length < take) {
          const entry = await stream.recv();
          if (entry === null) break;
          entries.push(plain(entry));
          if (query.progress) process.stderr.write(`entry ${entries.length}\n`);
          if (query.stopAfter !== undefined && Buffer.from(entry.data).toString('utf8').includes(query.stopAfter))
            break;
        }
        results.push({ entries });
      }
    } catch (error) {
      results.push({ error: String(error?.message) });
    }
  }
  // A following stream keeps the process alive: leave once the answer is out.
  process.stdout.write(JSON.stringify(results), () => process.exit(0));
}

main().catch((error) => {
  process.stderr.write(`binding-child: ${error?.message}\n`);
  process.exit(1);
});
