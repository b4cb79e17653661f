/** Process trees and ports, as a test of `npm run up` sees them (Linux /proc). */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

interface ProcessInfo {
  pid: number;
  ppid: number;
  command: string;
}

function processes(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid: Number(entry), ppid, command });
    } catch {
      // ended while we looked
    }
  }
  return found;
}

/** Every process below `pid` (children, their children, ...), with its command line. */
export function descendants(pid: number): ProcessInfo[] {
  const all = processes();
  const result: ProcessInfo[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    for (const child of all.filter((info) => info.ppid === parent)) {
      result.push(child);
      queue.push(child.pid);
    }
  }
  return result;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The ports of `ports` that something listens on (checked by binding each on 127.0.0.1), synchronously. */
export function busyPorts(ports: number[]): number[] {
  const script = `
    const net = require('node:net');
    const ports = ${JSON.stringify(ports)};
    Promise.all(ports.map((port) => new Promise((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(port));
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(null)));
    }))).then((busy) => console.log(JSON.stringify(busy.filter((port) => port !== null))));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as number[];
}
