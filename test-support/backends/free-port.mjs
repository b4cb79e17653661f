// A loopback port with nobody listening on it (for now): the OS picks one, and it is released at once.
// The plain-JavaScript twin of test-support/src/free-port.ts, for the global setup's backends (run without a TS loader).
import net from 'node:net';

export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
