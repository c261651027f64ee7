/** For the progress line's tests: a target whose answers wait for the test, and the frames a terminal showed. */
import { stripVTControlCharacters } from 'node:util';
import { startTargetServer, type TargetServer } from './target-server.js';

/** A target where `/quick` answers at once and `/held` waits until `release()`. */
export interface HeldTarget {
  target: TargetServer;
  /** `quick` URLs of /quick, then `held` URLs of /held. */
  urls(quick: number, held: number): string[];
  release(): void;
  close(): Promise<void>;
}

export async function startHeldTarget(): Promise<HeldTarget> {
  const released = signal();
  const target = await startTargetServer({
    '/quick': (_req, res) => res.end('ok'),
    '/held': async (_req, res) => {
      await released.promise;
      res.end('late');
    },
  });
  return {
    target,
    urls: (quick, held) => [
      ...Array.from({ length: quick }, (_, i) => target.url(`/quick?i=${i}`)),
      ...Array.from({ length: held }, (_, i) => target.url(`/held?i=${i}`)),
    ],
    release: released.resolve,
    close: async () => {
      released.resolve();
      await target.close();
    },
  };
}

/** A promise and the function that resolves it. */
export function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Waits for `promise`, but at most `boundMs`: a test that would otherwise wait forever fails instead. */
export function within(promise: Promise<void>, boundMs: number): Promise<void> {
  return Promise.race([promise, new Promise<void>((resolve) => setTimeout(resolve, boundMs))]);
}

/**
 * The frames a progress line drew on a terminal, escape sequences removed: cli-progress
 * starts each frame by moving the cursor to column 1 (ESC [1G).
 */
export function terminalFrames(screen: string): string[] {
  return screen
    .split('\u001b[1G')
    .flatMap((part) => part.split('\r'))
    .map((frame) => stripVTControlCharacters(frame).trim())
    .filter((frame) => /URLs \|/.test(frame));
}
