/**
 * Compiled (never run) by `npm run typecheck` against the published
 * declarations: `sandlog` resolves through package.json's `exports` to
 * dist/index.d.ts, so a type a user relies on that goes missing or changes
 * shape fails the check.
 */
import {
  type LogEntry,
  type LogSnapshot,
  type LogStreamHandle,
  type StreamOptions,
  captureProcess,
  decodeCursor,
  encodeCursor,
  ExecLogWriter,
  listSandboxes,
  MissedRotationError,
  readLogs,
  readLogsSnapshot,
  SandlogError,
  startServer,
  streamLogs,
} from 'sandlog';

async function usage(): Promise<void> {
  const options: StreamOptions = { sources: ['stdout', 'stderr'], follow: true, tail: 10 };
  const stream: LogStreamHandle = streamLogs('web-1', options);
  for await (const entry of stream) {
    const text: string = entry.text();
    const bytes: Uint8Array = entry.data;
    const when: Date = entry.timestamp;
    const cursor: string = entry.cursor;
    const json: string = JSON.stringify(entry);
    void [text, bytes, when, cursor, json];
  }
  const entries: LogEntry[] = await readLogs({ logDir: '/tmp/x' }, { sources: 'all', since: '5m' });
  const snapshot: LogSnapshot = await readLogsSnapshot('web-1');
  const resumed = streamLogs('web-1', { afterCursor: snapshot.cursor });
  await resumed.open();
  const positions = decodeCursor(snapshot.cursor);
  const again: string = encodeCursor(positions);
  const writer = new ExecLogWriter('/tmp/x', { maxBytes: 1024, maxFiles: 2 });
  writer.write('stdout', 'hello\n', 1);
  writer.close();
  const sandboxes = await listSandboxes('/tmp/home');
  const first: string | undefined = sandboxes[0]?.name;
  const run = await captureProcess('job', 'true', [], { maxBytes: 4096 });
  const exit: number = (await run.exit).exitCode;
  const server = await startServer({ host: '127.0.0.1', port: 0 });
  await server.close();
  try {
    await readLogs('missing');
  } catch (error) {
    if (error instanceof MissedRotationError) void error.offset;
    if (error instanceof SandlogError) void error.code;
  }
  void [entries, again, first, exit];
}
void usage;
