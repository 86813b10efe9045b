/** Timing: seconds taken by one awaited step, and the samples a row is built from. */
import { nowMs } from './spawn-line';

/** A row's runs: the provider's values and its floor's, in run order. */
export interface Sampled {
  readonly samples: number[];
  readonly floorSamples: number[];
}

/** Seconds `step` took. */
export async function seconds(step: () => Promise<unknown>): Promise<number> {
  const started = nowMs();
  await step();
  return (nowMs() - started) / 1000;
}
