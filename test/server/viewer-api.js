// The server the viewer tests and the viewer bench open: the real app
// (`createApp`, in this process) on 127.0.0.1 port 0, closed when the test
// ends.
import { createServer } from 'node:http';
import { createApp } from '../../dist/index.js';

/** Serves `home` on 127.0.0.1 port 0: { url, close() }. */
export async function startViewerServer(t, home) {
  const app = createApp({ home, heartbeatMs: 5000 });
  const server = createServer(app.handle);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const close = async () => {
    server.closeAllConnections();
    await app.close();
    await new Promise((resolve) => server.close(resolve));
  };
  t.after(close);
  return { url, close };
}
