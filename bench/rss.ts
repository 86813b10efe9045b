/**
 * Peak resident memory of the plugin processes Terraform starts: every ~20 ms, the
 * processes running the plugin in the bench's directory (Terraform runs the copy `init`
 * put under .terraform/providers, by a path relative to the working directory: so the
 * command line names the executable or its launcher bundle, and the process's cwd is in the bench's directory) are
 * found in /proc and their
 * VmHWM (the kernel's own high-water mark, so a peak between two samples still counts)
 * and VmRSS read. Linux only; elsewhere the peak stays null.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const INTERVAL_MS = 20;

function kilobytes(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

export class RssSampler {
  /** Peak over every matching process seen, in MB (10^6 bytes); null when none was seen. */
  peakMb: number | null = null;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly plugin: { readonly names: readonly string[]; readonly dir: string }) {}

  #isPlugin(pid: string): boolean {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!this.plugin.names.some((name) => cmdline.includes(name))) return false;
    return readlinkSync(`/proc/${pid}/cwd`).startsWith(this.plugin.dir);
  }

  start(): void {
    this.#timer = setInterval(() => this.sample(), INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.sample();
  }

  sample(): void {
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
    } catch {
      return;
    }
    for (const pid of pids) {
      try {
        if (!this.#isPlugin(pid)) continue;
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = Math.max(kilobytes(status, 'VmHWM'), kilobytes(status, 'VmRSS'));
        this.peakMb = Math.max(this.peakMb ?? 0, (kb * 1024) / 1e6);
      } catch {
        // the process ended between the listing and the read
      }
    }
  }
}
