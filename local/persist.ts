/**
 * Keeps a service's state on disk under the stack's data folder so a restart loses
 * nothing. Writes are debounced (many mutations, one write) and atomic (temp file then
 * rename), so a crash leaves either the previous or the next snapshot, never half of one.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export class JsonSnapshot<T> {
  private timer: NodeJS.Timeout | undefined;
  private readonly file: string;

  /**
   * @param dataDir the stack's data folder (e.g. `.batchron/`); undefined keeps state in memory only
   * @param name file name without extension, e.g. `batch`
   * @param snapshot returns the state to write
   * @param debounceMs how long to gather mutations before a write
   */
  constructor(
    dataDir: string | undefined,
    name: string,
    private readonly snapshot: () => T,
    private readonly debounceMs = 200,
  ) {
    this.file = dataDir ? join(dataDir, 'state', `${name}.json`) : '';
  }

  /** The last state written, or undefined on a first start. */
  load(): T | undefined {
    if (!this.file || !existsSync(this.file)) return undefined;
    return JSON.parse(readFileSync(this.file, 'utf8')) as T;
  }

  /** Notes a mutation; the state is written within `debounceMs`. */
  changed(): void {
    if (!this.file || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.debounceMs);
    this.timer.unref?.();
  }

  /** Writes now; called on shutdown. */
  flush(): void {
    if (!this.file) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // Private to the user: state/ssm.json holds the Slack webhook.
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.snapshot()), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
