/**
 * A net/tls `lookup` that applies the address policy after DNS resolution. The socket is
 * handed exactly the addresses this call checked, so a second, rebound answer is never used.
 */

import type { LookupAddress, LookupOptions } from 'node:dns';
import { promises as dns } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { BlockedAddressError, FetchError } from '../errors.js';
import type { AddressPolicy } from './address-policy.js';
import { ipLiteral } from './address-policy.js';

/** One address a host name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all of its addresses. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver (dns.promises.lookup with all: true, verbatim order). */
export const systemResolver: Resolver = async (hostname) => {
  const answers = await dns.lookup(hostname, { all: true, order: 'verbatim' });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** Resolver failures that may clear up on another attempt. */
const TEMPORARY_DNS_CODES: ReadonlySet<string> = new Set([
  'EAI_AGAIN',
  'ETIMEOUT',
  'ETIMEDOUT',
  'ESERVFAIL',
  'ECONNREFUSED',
]);

function dnsError(hostname: string, message: string, cause?: unknown): FetchError {
  if (cause instanceof FetchError) return cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const retryable = typeof code === 'string' && TEMPORARY_DNS_CODES.has(code);
  const detail = typeof code === 'string' ? ` (${code})` : '';
  return new FetchError('DNS', `${message} for ${hostname}${detail}`, { retryable, cause });
}

/** The family a lookup asked for: 4, 6, or 0 for either. */
function wantedFamily(options: LookupOptions): 0 | 4 | 6 {
  const family = options.family;
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

/**
 * Checks every address; the checked ones, with their family read from the address itself,
 * or the error for the first blocked one.
 */
function checkAll(policy: AddressPolicy, answers: readonly ResolvedAddress[]): LookupAddress[] | Error {
  const checked: LookupAddress[] = [];
  for (const answer of answers) {
    const address = typeof answer?.address === 'string' ? answer.address : String(answer?.address);
    const reason = policy.check(address);
    if (reason !== null) return new BlockedAddressError(address, reason);
    checked.push({ address, family: isIP(address) });
  }
  return checked;
}

async function resolveChecked(
  hostname: string,
  family: 0 | 4 | 6,
  policy: AddressPolicy,
  resolve: Resolver,
): Promise<LookupAddress[]> {
  const literal = ipLiteral(hostname);
  let answers: readonly ResolvedAddress[];
  if (literal !== null) {
    answers = [{ address: literal, family: isIP(literal) === 6 ? 6 : 4 }];
  } else {
    try {
      answers = await resolve(hostname);
    } catch (error) {
      throw dnsError(hostname, 'DNS lookup failed', error);
    }
  }
  if (!Array.isArray(answers) || answers.length === 0) throw dnsError(hostname, 'DNS returned no address');
  // Every answer is checked, even those of a family not asked for: one bad answer blocks the host.
  const checked = checkAll(policy, answers);
  if (checked instanceof Error) throw checked;
  const usable = family === 0 ? checked : checked.filter((entry) => entry.family === family);
  if (usable.length === 0) throw dnsError(hostname, `DNS returned no IPv${family} address`);
  return usable;
}

/**
 * A net/tls `lookup` that resolves with `resolve`, checks every address with `policy`, and
 * answers with only those addresses; any blocked address fails the connection.
 * net.connect skips `lookup` for an IP literal host, so callers must check those with the policy too.
 */
export function createGuardedLookup(
  policy: AddressPolicy,
  resolve: Resolver = systemResolver,
): LookupFunction {
  return (hostname, options, callback) => {
    resolveChecked(hostname, wantedFamily(options ?? {}), policy, resolve).then(
      (addresses) => {
        if (options?.all) {
          callback(null, addresses);
          return;
        }
        const [first] = addresses as [LookupAddress];
        callback(null, first.address, first.family);
      },
      (error: Error) => callback(error, options?.all ? [] : ''),
    );
  };
}
