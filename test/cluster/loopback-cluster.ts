// A cluster of "hosts" on this machine, reached the way GNU parallel reaches
// real ones: through an sshd listening on 127.0.0.1, on a free port, with its
// own host key, user key and authorized keys, all in a temporary folder
// (nothing in ~/.ssh is read or written). Each host runs its sessions in a
// folder of its own (its home: files sent with --basefile land there), with
// a `finorm` command on its PATH that runs this checkout's build. The sshd is
// stopped and the folder removed by stop(), and by a watchdog if the test
// process dies first.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../support/cli.js';

export interface LoopbackCluster {
  /** The temporary folder holding everything. */
  dir: string;
  /** The host names to give GNU parallel (-S, --slf). */
  hosts: string[];
  /** Each host's folder: its sessions run there. */
  hostDir(host: string): string;
  /** The environment a command needs to reach the hosts through parallel: PARALLEL_SSH, PARALLEL_HOME, PATH with finorm. */
  env: NodeJS.ProcessEnv;
  /** What sshd wrote (its log), for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
}

const SSHD = ['/usr/sbin/sshd', '/usr/local/sbin/sshd'].find((path) => existsSync(path));

/** What is missing to run the cluster test, or undefined. */
export function missingTools(): string | undefined {
  const missing = [];
  for (const tool of ['parallel', 'ssh', 'ssh-keygen', 'rsync']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      missing.push(tool);
    }
  }
  if (SSHD === undefined) missing.push('sshd');
  return missing.length === 0 ? undefined : `${missing.join(', ')} not found: install GNU parallel, OpenSSH (client and server) and rsync (Debian: apt-get install -y parallel openssh-server rsync)`;
}

export async function startLoopbackCluster(hosts: string[]): Promise<LoopbackCluster> {
  const sshd = SSHD as string;
  const dir = mkdtempSync(join(tmpdir(), 'finorm-cluster-'));
  const user = userInfo().username;
  let server: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let log = '';
  // sshd refuses to start without its privilege separation directory (made by the service's start script).
  const privsep = '/run/sshd';
  const madePrivsep = process.getuid?.() === 0 && !existsSync(privsep);
  const stop = async (): Promise<void> => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    watchdog?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    if (madePrivsep) rmSync(privsep, { recursive: true, force: true });
  };
  try {
    if (madePrivsep) mkdirSync(privsep, { mode: 0o755 });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'finorm-cluster-host', '-f', join(dir, 'host_key')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'finorm-cluster-user', '-f', join(dir, 'user_key')]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'user_key.pub')), { mode: 0o600 });
    const [keyType, key] = readFileSync(join(dir, 'host_key.pub'), 'utf8').split(' ');
    writeFileSync(join(dir, 'known_hosts'), `finorm-loopback-cluster ${keyType} ${key}\n`);
    // `finorm` on every host's PATH (and the local one): this checkout's build.
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'finorm'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
    chmodSync(join(dir, 'bin', 'finorm'), 0o755);
    for (const host of hosts) mkdirSync(join(dir, 'hosts', host), { recursive: true });

    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      writeFileSync(join(dir, 'sshd_config'), sshdConfig(dir, port, user));
      writeFileSync(join(dir, 'ssh_config'), sshConfig(dir, port, user, hosts));
      log = '';
      server = spawn(sshd, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
      server.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
      const exited = new Promise<'exited'>((resolve) => server?.once('exit', () => resolve('exited')));
      if ((await Promise.race([listening(port), exited])) === true) break;
      server.kill('SIGKILL');
      if (attempt === 3) throw new Error(`sshd did not start: ${log}`);
    }
    // If this process dies without stop(), the watchdog stops sshd and removes the folder (and the privsep directory it made).
    watchdog = spawn(
      'sh',
      ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill ${server.pid}; rm -rf '${dir}'${madePrivsep ? `; rmdir ${privsep}` : ''}`],
      { detached: true, stdio: 'ignore' },
    );
    watchdog.unref();
  } catch (error) {
    await stop();
    throw error;
  }
  mkdirSync(join(dir, 'parallel-home'));
  return {
    dir,
    hosts,
    hostDir: (host) => join(dir, 'hosts', host),
    env: {
      ...process.env,
      PATH: `${join(dir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      PARALLEL_SSH: `ssh -F ${join(dir, 'ssh_config')}`,
      // GNU parallel keeps its caches here instead of ~/.parallel.
      PARALLEL_HOME: join(dir, 'parallel-home'),
    },
    log: () => log,
    stop,
  };
}

function sshdConfig(dir: string, port: number, user: string): string {
  // Each session runs in its host's folder, with HOME there and finorm on PATH.
  const session = `cd "${dir}/hosts/$FINORM_TEST_HOST" && HOME="$PWD" && PATH="${dir}/bin:$PATH" && export HOME PATH && eval "$SSH_ORIGINAL_COMMAND"`;
  return [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${dir}/host_key`,
    `AuthorizedKeysFile ${dir}/authorized_keys`,
    'AuthenticationMethods publickey',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    `AllowUsers ${user}`,
    'PidFile none',
    'PrintMotd no',
    'X11Forwarding no',
    'AllowTcpForwarding no',
    // parallel opens several connections at once (jobs, rsync, its probes).
    'MaxStartups 100',
    'MaxSessions 100',
    'AcceptEnv FINORM_TEST_HOST',
    `ForceCommand ${session}`,
    '',
  ].join('\n');
}

function sshConfig(dir: string, port: number, user: string, hosts: string[]): string {
  return [
    `Host ${hosts.join(' ')}`,
    '  HostName 127.0.0.1',
    `  Port ${port}`,
    `  User ${user}`,
    `  IdentityFile ${dir}/user_key`,
    '  IdentitiesOnly yes',
    '  IdentityAgent none',
    `  UserKnownHostsFile ${dir}/known_hosts`,
    '  GlobalKnownHostsFile /dev/null',
    '  HostKeyAlias finorm-loopback-cluster',
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
    '  LogLevel ERROR',
    ...hosts.flatMap((host) => [`Host ${host}`, `  SetEnv FINORM_TEST_HOST=${host}`]),
    '',
  ].join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves true once something accepts connections on the port, false after 10 s. */
async function listening(port: number): Promise<boolean> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
