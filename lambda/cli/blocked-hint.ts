import { createReadStream } from 'node:fs';
import { isIPv6 } from 'node:net';
import { createInterface } from 'node:readline';
import type { FailedLine } from '../core/record.js';
import { plural } from '../core/report/format.js';

/** A blocked address as its BLOCKED_ADDRESS record names it. */
export interface BlockedAddress {
  address: string;
  /** Why it is blocked: loopback, private, link-local, … */
  reason: string;
}

/** Addresses a hint names, each with its own --allow; past this, it names a few and says there are more. */
const NAMED = 3;
/** failed.jsonl lines read at most looking for them. */
const SCAN_LINES = 10_000;

/** BlockedAddressError's message: `address 127.0.0.1 is blocked (loopback)`. */
const BLOCKED_MESSAGE = /^address (\S+) is blocked \(([^)]+)\)/;

/** The first few distinct addresses (one more than a hint names) that the BLOCKED_ADDRESS lines of a failed.jsonl name (a bounded read). */
export async function blockedAddresses(failedJsonl: string): Promise<BlockedAddress[]> {
  const found = new Map<string, BlockedAddress>();
  const lines = createInterface({
    input: createReadStream(failedJsonl),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let read = 0;
  try {
    for await (const line of lines) {
      read += 1;
      if (read > SCAN_LINES || found.size > NAMED) break;
      if (!line.includes('BLOCKED_ADDRESS')) continue;
      const { error } = JSON.parse(line) as FailedLine;
      const match = error.code === 'BLOCKED_ADDRESS' ? BLOCKED_MESSAGE.exec(error.message) : null;
      if (match?.[1] && match[2] && match[2] !== 'unparseable')
        found.set(match[1], { address: match[1], reason: match[2] });
    }
  } catch {
    // No failed.jsonl to read: the hint names no address.
  } finally {
    lines.close();
  }
  return [...found.values()];
}

const allowFor = (address: string) => `--allow ${address}/${isIPv6(address) ? 128 : 32}`;

const listed = (words: readonly string[]) =>
  words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;

/**
 * One line saying how to fetch the URLs the address policy blocked, e.g. "3 URLs were
 * blocked (BLOCKED_ADDRESS): 127.0.0.1 is loopback. To fetch them, add --allow
 * 127.0.0.1/32, or --allow-private for every blocked range (local testing only)"; null
 * when none was.
 */
export function blockedHint(blockedUrls: number, addresses: readonly BlockedAddress[]): string | null {
  if (blockedUrls === 0) return null;
  const them = blockedUrls === 1 ? 'it' : 'them';
  const head = `${plural(blockedUrls, 'URL')} ${blockedUrls === 1 ? 'was' : 'were'} blocked (BLOCKED_ADDRESS)`;
  const everyRange = '--allow-private for every blocked range (local testing only)';
  if (addresses.length === 0)
    return `${head}. To fetch ${them}, add --allow CIDR for their range, or ${everyRange}`;
  const reasons = listed([...new Set(addresses.map((a) => a.reason))]);
  if (addresses.length > NAMED) {
    const some = addresses.slice(0, NAMED).map((a) => a.address);
    return `${head}: ${some.join(', ')} and more (${reasons}). To fetch ${them}, add --allow CIDR for each range, or ${everyRange}`;
  }
  const verb = addresses.length === 1 ? 'is' : 'are';
  const allows = addresses.map((a) => allowFor(a.address)).join(' ');
  return `${head}: ${listed(addresses.map((a) => a.address))} ${verb} ${reasons}. To fetch ${them}, add ${allows}, or ${everyRange}`;
}
