/**
 * One run of the demo: where it writes, what it started (for the clean-up), and how a step
 * runs (a numbered progress line, interruptible by SIGINT/SIGTERM without losing anything
 * the step started).
 */
import { rmSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from 'pg';
import type { LocalCluster, PostgresBinaries } from '../localpg';
import type { Output } from '../terminal/output';
import { seconds } from './show';

export interface DemoOptions {
  /** ttl of the on-call grant, in seconds. */
  readonly shortTtlSeconds: number;
  /** The PostgreSQL build to run. */
  readonly binaries: PostgresBinaries;
}

/** Thrown (and caught by `runDemo`) when a signal arrived. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

export const TOTAL_STEPS = 9;

/** One progress line per step on stderr; on a terminal the last one can be updated in place. */
export class Progress {
  private n = 0;
  private label = '';
  private open = false;
  private extra = '';
  private readonly tty: boolean;

  constructor(private readonly out: Output) {
    this.tty = out.io.stderr.isTTY === true;
  }

  private write(text: string): void {
    this.out.io.stderr.write(text);
  }

  private head(): string {
    return `${this.out.paintErr('dim', `[${this.n}/${TOTAL_STEPS}]`)} ${this.label} ...`;
  }

  start(label: string): void {
    this.n++;
    this.label = label;
    this.extra = '';
    this.open = true;
    this.write(this.head());
  }

  /** Shows how far the step is: in place on a terminal, appended (sparingly) otherwise. */
  status(text: string): void {
    if (!this.open) return;
    if (this.tty) this.write(`\r\u001b[K${this.head()} ${text}`);
    else this.write(` ${text} ...`);
    this.extra = text;
  }

  finish(result: string): void {
    if (!this.open) return;
    this.open = false;
    if (this.tty && this.extra !== '') this.write(`\r\u001b[K${this.head()}`);
    this.write(` ${result}\n`);
  }
}

/** Everything the demo started, for the clean-up. */
export interface Started {
  dir?: string | undefined;
  cluster?: LocalCluster | undefined;
  readonly clients: Set<Client>;
}

/** The state of one run, passed to every step. */
export class DemoRun {
  readonly abort = new AbortController();
  readonly started: Started = { clients: new Set() };
  readonly progress: Progress;
  readonly began = Date.now();

  constructor(
    readonly options: DemoOptions,
    readonly out: Output,
  ) {
    this.progress = new Progress(out);
  }

  /** `text` in bold on stdout (when it has colour). */
  bold(text: string): string {
    return this.out.paint('bold', text);
  }

  /** Throws Interrupted once a signal arrived. */
  check(): void {
    if (this.abort.signal.aborted) throw new Interrupted();
  }

  /** Runs a step: waits for `work` even when interrupted (so nothing it starts is lost), then checks. */
  async step<T>(label: string, work: () => Promise<T>, summary?: (value: T) => string): Promise<T> {
    this.check();
    this.progress.start(label);
    const t0 = Date.now();
    let value: T;
    try {
      value = await work();
    } catch (err) {
      this.progress.finish(this.abort.signal.aborted ? 'interrupted' : 'failed');
      if (this.abort.signal.aborted) throw new Interrupted();
      throw err;
    }
    if (this.abort.signal.aborted) {
      this.progress.finish('interrupted');
      throw new Interrupted();
    }
    this.progress.finish(`${summary ? summary(value) : 'done'} (${seconds(Date.now() - t0)})`);
    return value;
  }

  /** Sleeps until `at`, or until interrupted. */
  async sleepUntil(at: number): Promise<void> {
    const ms = at - Date.now();
    if (ms <= 0) return;
    try {
      await delay(ms, undefined, { signal: this.abort.signal });
    } catch {
      throw new Interrupted();
    }
  }

  /** Stops whatever was started: sessions, the cluster, the working directory. Never throws. */
  async cleanUp(): Promise<void> {
    const started = this.started;
    for (const client of started.clients) {
      await Promise.race([client.end().catch(() => undefined), timeout(2_000, undefined)]);
    }
    started.clients.clear();
    if (started.cluster) {
      await started.cluster.stop().catch(() => undefined);
      started.cluster = undefined;
    }
    if (started.dir) {
      rmSync(started.dir, { recursive: true, force: true });
      started.dir = undefined;
    }
  }
}

/** Resolves with `value` after `ms` without keeping the process alive. */
export function timeout<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}
