import net from 'net';

/** A port the demo wants, with the environment variable and option a user sets to change it. */
export interface PortWish {
  what: string;
  port: number;
  env: string;
  flag: string;
  /** The command the message suggests (default `npm start`). */
  command?: string;
}

export class PortInUseError extends Error {
  constructor(readonly wish: PortWish) {
    super(`Port ${wish.port} (${wish.what}) is already in use. Stop whatever uses it, or choose another port: `
      + `${wish.env}=<port> ${wish.command ?? 'npm start'}, or ${wish.command ?? 'npm start'} -- ${wish.flag} <port>.`);
  }
}

/** Resolves when host:port can be bound (and releases it again); rejects with PortInUseError when it cannot. */
export function assertPortFree(wish: PortWish, host = '127.0.0.1'): Promise<void> {
  if (wish.port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? new PortInUseError(wish) : err);
    });
    probe.listen(wish.port, host, () => probe.close(() => resolve()));
  });
}

/** A port number from a CLI flag (`--flag 8101` or `--flag=8101`), else an environment variable, else the default. */
export function portSetting(argv: readonly string[], flag: string, env: string, dflt: number): number {
  let raw: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === flag) raw = argv[i + 1];
    else if (a.startsWith(`${flag}=`)) raw = a.slice(flag.length + 1);
  }
  raw ??= process.env[env];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} / ${env}: "${raw}" is not a port number (0–65535).`);
  return n;
}

/** A port that is free right now on 127.0.0.1 (for a child process that must be told its port). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
