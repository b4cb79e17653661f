import { createServer, type AddressInfo } from 'node:net';

/** A loopback port with nobody listening on it (for now): the OS picks one, and it is released at once. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}
