import type { Agent } from 'undici';
// undici's index loads fetch, WebSocket, caches and mocks too: ~80 ms of start-up a run
// pays before its first request, for one class. The Agent's own module is all we use.
import UndiciAgent from 'undici/lib/dispatcher/agent.js';
import type { AddressPolicy } from '../address/address-policy.js';
import { createGuardedLookup, type Resolver } from '../address/guarded-lookup.js';

export interface AgentSettings {
  policy: AddressPolicy;
  /** Name resolution; the system resolver unless a test or caller supplies one. */
  resolver?: Resolver | undefined;
  connectTimeoutMs: number;
  /** Sockets per origin; the limiter's per-host cap keeps requests under it. */
  perHost: number;
}

/**
 * The one keep-alive undici Agent a process uses. Every connection resolves its host
 * through the guarded lookup, so the socket connects only to an address the policy
 * checked. HTTP/2 stays off: one request per socket keeps the per-host cap exact and
 * file-descriptor use predictable.
 */
export function createAgent(settings: AgentSettings): Agent {
  return new UndiciAgent({
    connect: {
      timeout: settings.connectTimeoutMs,
      lookup: createGuardedLookup(settings.policy, settings.resolver),
    },
    connections: settings.perHost,
    pipelining: 1,
    allowH2: false,
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 60_000,
    maxHeaderSize: 64 * 1024,
  });
}
