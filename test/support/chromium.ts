import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { requireIntegrationProject } from './test-project.js';

/**
 * Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
 * NUL-terminated JSON on fds 3 and 4), so no port, no WebSocket and no npm package.
 * Networking is off: every request goes to a proxy that refuses, and names resolve nowhere.
 */

/** Debian's chromium package (the integration tests' set-up installs it); FANOUT_CHROMIUM overrides. */
export const CHROMIUM_PATH = process.env.FANOUT_CHROMIUM ?? '/usr/bin/chromium';

/** Null when Chromium can be run, else why not. */
export function chromiumMissing(): string | null {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return null;
  } catch {
    return `${CHROMIUM_PATH} is not installed: \`npm test\` installs Debian's chromium package when it runs as root with apt-get (scripts/setup-system.sh); else install it yourself`;
  }
}

const COMMAND_TIMEOUT_MS = 15_000;

type Message = {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
};
type Listener = (params: Record<string, unknown>, sessionId: string | undefined) => void;

/** A DevTools protocol connection over Chromium's pipe. */
class Cdp {
  private nextId = 1;
  private buffer = '';
  private closed: Error | null = null;
  private readonly pending = new Map<
    number,
    { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let end = this.buffer.indexOf('\0'); end >= 0; end = this.buffer.indexOf('\0')) {
        const text = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 1);
        this.dispatch(JSON.parse(text) as Message);
      }
    });
    output.on('close', () => this.fail(new Error('Chromium closed the DevTools pipe')));
    input.on('error', (err) => this.fail(err));
  }

  private dispatch(message: Message): void {
    if (message.id !== undefined) {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(message.error.message));
      else waiter?.resolve(message.result ?? {});
      return;
    }
    for (const listener of this.listeners.get(message.method ?? '') ?? []) {
      listener(message.params ?? {}, message.sessionId);
    }
  }

  fail(err: Error): void {
    this.closed ??= err;
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }

  /** Sends a command and waits (bounded) for its answer. */
  send<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs = COMMAND_TIMEOUT_MS,
  ): Promise<T> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer from Chromium within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.input.write(`${JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) })}\0`);
    });
  }

  on(method: string, listener: Listener): () => void {
    const set = this.listeners.get(method) ?? new Set();
    set.add(listener);
    this.listeners.set(method, set);
    return () => set.delete(listener);
  }
}

/** One tab. `problems` and `requests` fill in as the page runs. */
export class ChromiumPage {
  /** Console errors, uncaught exceptions and browser log errors (CSP violations, failed loads). */
  readonly problems: string[] = [];
  /** Every URL the page asked for, the page itself included. */
  readonly requests: string[] = [];

  constructor(
    private readonly cdp: Cdp,
    private readonly sessionId: string,
  ) {
    const mine =
      (fn: (p: Record<string, unknown>) => void): Listener =>
      (params, sid) => {
        if (sid === sessionId) fn(params);
      };
    cdp.on(
      'Runtime.exceptionThrown',
      mine((p) => {
        const details = p.exceptionDetails as { text?: string; exception?: { description?: string } };
        this.problems.push(`exception: ${details.exception?.description ?? details.text}`);
      }),
    );
    cdp.on(
      'Runtime.consoleAPICalled',
      mine((p) => {
        if (p.type !== 'error' && p.type !== 'assert') return;
        const args = (p.args as Array<{ value?: unknown; description?: string }>) ?? [];
        this.problems.push(`console.${p.type}: ${args.map((a) => a.value ?? a.description).join(' ')}`);
      }),
    );
    cdp.on(
      'Log.entryAdded',
      mine((p) => {
        const entry = p.entry as { level: string; source: string; text: string; url?: string };
        if (entry.level === 'error')
          this.problems.push(`log (${entry.source}): ${entry.text} ${entry.url ?? ''}`);
      }),
    );
    cdp.on(
      'Network.requestWillBeSent',
      mine((p) => {
        this.requests.push((p.request as { url: string }).url);
      }),
    );
  }

  /** Requests to anything but the page's own file:/data:/about: URLs. */
  externalRequests(): string[] {
    return this.requests.filter((u) => !/^(file|data|about):/.test(u));
  }

  /** Turns on the events behind `problems` and `requests`. */
  async enable(): Promise<void> {
    for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await this.send(`${domain}.enable`);
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return this.cdp.send<T>(method, params, this.sessionId);
  }

  /** Navigates and waits (bounded) for the load event. */
  async goto(url: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<void> {
    let off = () => {};
    const loaded = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${url} did not load within ${timeoutMs} ms`)),
        timeoutMs,
      );
      off = this.cdp.on('Page.loadEventFired', (_p, sid) => {
        if (sid !== this.sessionId) return;
        clearTimeout(timer);
        resolve();
      });
    });
    try {
      const nav = await this.send<{ errorText?: string }>('Page.navigate', { url });
      if (nav.errorText) throw new Error(`navigating to ${url}: ${nav.errorText}`);
      await loaded;
    } finally {
      off();
    }
  }

  /** Evaluates an expression in the page and returns its value (JSON-serialisable). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send<{ result: { value?: T }; exceptionDetails?: { text: string } }>(
      'Runtime.evaluate',
      {
        expression,
        returnByValue: true,
      },
    );
    if (r.exceptionDetails) throw new Error(`evaluate(${expression}): ${r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Sets the viewport (CSS pixels); `mobile` emulates a phone's viewport meta handling. */
  async setViewport(width: number, height: number, mobile = false): Promise<void> {
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile });
  }

  /** Saves a PNG of the whole page at the current width. */
  async screenshot(path: string): Promise<void> {
    const metrics = await this.send<{ cssContentSize: { width: number; height: number } }>(
      'Page.getLayoutMetrics',
    );
    const { width, height } = metrics.cssContentSize;
    const shot = await this.send<{ data: string }>('Page.captureScreenshot', {
      format: 'png',
      captureBeyondViewport: true,
      clip: { x: 0, y: 0, width: Math.ceil(width), height: Math.ceil(height), scale: 1 },
    });
    writeFileSync(path, Buffer.from(shot.data, 'base64'));
  }
}

/** A running headless Chromium. Always `close()` it (it is also killed when the test process exits). */
export interface Chromium {
  newPage(): Promise<ChromiumPage>;
  close(): Promise<void>;
  /** The end of Chromium's stderr, for failure messages. */
  stderr(): string;
}

/** Starts headless Chromium with networking off, and waits (bounded) until it answers. */
export async function launchChromium(): Promise<Chromium> {
  requireIntegrationProject('Chromium');
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const profile = mkdtempSync(join(tmpdir(), 'fanout-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox', // tests run as root, where the sandbox cannot start
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--remote-debugging-pipe',
    `--user-data-dir=${profile}`,
    // Networking off: every request goes to a port that refuses, no name resolves.
    '--proxy-server=127.0.0.1:9',
    '--proxy-bypass-list=<-loopback>',
    '--host-resolver-rules=MAP * ~NOTFOUND',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-default-apps',
    '--disable-extensions',
    '--disable-sync',
    '--mute-audio',
    '--hide-scrollbars',
    'about:blank',
  ];
  // Its own process group, so close() ends Chromium's helper processes too (and only those).
  const child: ChildProcess = spawn(CHROMIUM_PATH, args, {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-8000);
  });
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killGroup);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const cdp = new Cdp(child.stdio[3] as Writable, child.stdio[4] as Readable);
  child.once('exit', (code, signal) => cdp.fail(new Error(`Chromium exited (${signal ?? code}): ${stderr}`)));

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      await cdp.send('Browser.close', {}, undefined, 3000).catch(() => {});
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      killGroup();
      process.removeListener('exit', killGroup);
      rmSync(profile, { recursive: true, force: true });
    })();
    return closing;
  };

  try {
    await cdp.send('Browser.getVersion');
  } catch (err) {
    await close();
    throw new Error(`Chromium did not start: ${(err as Error).message}\n${stderr}`);
  }
  return {
    async newPage() {
      const { targetId } = await cdp.send<{ targetId: string }>('Target.createTarget', {
        url: 'about:blank',
      });
      const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', {
        targetId,
        flatten: true,
      });
      const page = new ChromiumPage(cdp, sessionId);
      await page.enable();
      return page;
    },
    close,
    stderr: () => stderr,
  };
}
