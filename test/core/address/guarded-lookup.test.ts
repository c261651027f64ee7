import type { LookupAddress, LookupOptions } from 'node:dns';
import type { AddressInfo, LookupFunction, Server } from 'node:net';
import { connect, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressPolicy } from '../../../lambda/core/address/address-policy.js';
import type { ResolvedAddress, Resolver } from '../../../lambda/core/address/guarded-lookup.js';
import { createGuardedLookup } from '../../../lambda/core/address/guarded-lookup.js';
import { BlockedAddressError, FetchError } from '../../../lambda/core/errors.js';

const strict = new AddressPolicy({ allowPrivate: false, allow: [] });

/** A policy that remembers every address it was asked about. */
class RecordingPolicy extends AddressPolicy {
  checked: string[] = [];
  override check(address: string): string | null {
    this.checked.push(address);
    return super.check(address);
  }
}

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });

/** A resolver that gives the next answer on each call and counts its calls. */
function stubResolver(...answers: (ResolvedAddress[] | Error)[]): Resolver & { calls: number } {
  const resolver = Object.assign(
    async (_hostname: string) => {
      const answer = answers[Math.min(resolver.calls++, answers.length - 1)];
      if (answer instanceof Error) throw answer;
      return answer ?? [];
    },
    { calls: 0 },
  );
  return resolver;
}

interface Answer {
  address: string | LookupAddress[];
  family: number | undefined;
}

function lookupOnce(lookup: LookupFunction, hostname: string, options: LookupOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    lookup(hostname, options, (error, address, family) =>
      error ? reject(error) : resolve({ address, family }),
    );
  });
}

const dnsFailure = (code: string) => Object.assign(new Error(`queryA ${code} example.com`), { code });

describe('createGuardedLookup blocks', () => {
  it.each<[string, ResolvedAddress[], string, string]>([
    ['loopback', [v4('127.0.0.1')], '127.0.0.1', 'loopback'],
    ['private', [v4('10.0.0.1')], '10.0.0.1', 'private'],
    ['metadata', [v4('169.254.169.254')], '169.254.169.254', 'link-local'],
    ['IPv6 loopback', [v6('::1')], '::1', 'loopback'],
    ['unique-local', [v6('fd00:ec2::254')], 'fd00:ec2::254', 'unique-local'],
    ['mapped', [v6('::ffff:127.0.0.1')], '::ffff:127.0.0.1', 'ipv4-mapped'],
    ['public then private', [v4('93.184.216.34'), v4('10.0.0.1')], '10.0.0.1', 'private'],
    ['private then public', [v4('192.168.0.1'), v4('93.184.216.34')], '192.168.0.1', 'private'],
    ['public v4, private v6', [v4('8.8.8.8'), v6('fe80::1%eth0')], 'fe80::1%eth0', 'link-local'],
    ['garbage', [v4('not-an-address')], 'not-an-address', 'unparseable'],
  ])('%s answers', async (_name, answers, address, reason) => {
    for (const options of [{ all: true }, { all: false }, { family: 6 }]) {
      const lookup = createGuardedLookup(strict, stubResolver(answers));
      const failure = lookupOnce(lookup, 'example.com', options);
      await expect(failure).rejects.toBeInstanceOf(BlockedAddressError);
      await expect(failure).rejects.toMatchObject({ code: 'BLOCKED_ADDRESS', address, retryable: false });
      await expect(failure).rejects.toThrow(`(${reason})`);
    }
  });

  it.each([['127.0.0.1'], ['[::1]'], ['::ffff:7f00:1'], ['169.254.169.254']])(
    'the IP literal %s without resolving it',
    async (hostname) => {
      const resolver = stubResolver([v4('93.184.216.34')]);
      await expect(lookupOnce(createGuardedLookup(strict, resolver), hostname)).rejects.toBeInstanceOf(
        BlockedAddressError,
      );
      expect(resolver.calls).toBe(0);
    },
  );
});

describe('createGuardedLookup answers', () => {
  const mixed = [v6('2606:4700:4700::1111'), v4('1.1.1.1'), v4('1.0.0.1')];

  it.each<[string, LookupOptions, Answer]>([
    ['all: true', { all: true }, { address: mixed, family: undefined }],
    [
      'all: true, family 4',
      { all: true, family: 4 },
      { address: [v4('1.1.1.1'), v4('1.0.0.1')], family: undefined },
    ],
    ['all: true, family IPv6', { all: true, family: 'IPv6' }, { address: [mixed[0]!], family: undefined }],
    ['all: false', {}, { address: '2606:4700:4700::1111', family: 6 }],
    ['all: false, family 4', { family: 4 }, { address: '1.1.1.1', family: 4 }],
    ['all: false, family IPv4', { family: 'IPv4' }, { address: '1.1.1.1', family: 4 }],
    ['all: false, family 6', { family: 6 }, { address: '2606:4700:4700::1111', family: 6 }],
    ['all: false, family 0', { family: 0 }, { address: '2606:4700:4700::1111', family: 6 }],
  ])('%s', async (_name, options, expected) => {
    const answer = await lookupOnce(
      createGuardedLookup(strict, stubResolver(mixed)),
      'one.one.one.one',
      options,
    );
    expect(answer).toEqual(expected);
  });

  it.each<[string, LookupOptions, Answer]>([
    ['8.8.8.8', {}, { address: '8.8.8.8', family: 4 }],
    ['[2606:4700:4700::1111]', { all: true }, { address: [v6('2606:4700:4700::1111')], family: undefined }],
  ])('the public IP literal %s without resolving it', async (hostname, options, expected) => {
    const resolver = stubResolver(new Error('must not resolve'));
    expect(await lookupOnce(createGuardedLookup(strict, resolver), hostname, options)).toEqual(expected);
    expect(resolver.calls).toBe(0);
  });

  it.each<[string, AddressPolicy, ResolvedAddress[]]>([
    ['allowPrivate', new AddressPolicy({ allowPrivate: true, allow: [] }), [v4('127.0.0.1'), v6('::1')]],
    ['an allow list', new AddressPolicy({ allowPrivate: false, allow: ['10.0.0.0/8'] }), [v4('10.1.2.3')]],
  ])('private addresses the policy lifts with %s', async (_name, policy, answers) => {
    const answer = await lookupOnce(createGuardedLookup(policy, stubResolver(answers)), 'intranet', {
      all: true,
    });
    expect(answer.address).toEqual(answers);
  });
});

describe('createGuardedLookup under DNS rebinding', () => {
  it('answers each call with exactly the addresses checked in that call, resolving once per call', async () => {
    const policy = new RecordingPolicy({ allowPrivate: false, allow: [] });
    const resolver = stubResolver(
      [v4('93.184.216.34')],
      [v4('127.0.0.1')],
      [v4('93.184.216.34'), v4('10.0.0.1')],
      [v4('93.184.216.35')],
    );
    const lookup = createGuardedLookup(policy, resolver);
    const calls: [LookupOptions, string[] | Error][] = [
      [{ all: true }, ['93.184.216.34']],
      [{ all: true }, new BlockedAddressError('127.0.0.1', 'loopback')],
      [{ all: false }, new BlockedAddressError('10.0.0.1', 'private')],
      [{ all: false }, ['93.184.216.35']],
    ];
    for (const [index, [options, expected]] of calls.entries()) {
      policy.checked = [];
      const outcome = await lookupOnce(lookup, 'rebind.example', options).catch((error: Error) => error);
      expect(resolver.calls).toBe(index + 1);
      if (expected instanceof Error) {
        expect(outcome).toMatchObject({ name: 'BlockedAddressError', message: expected.message });
        continue;
      }
      const { address } = outcome as Answer;
      const answered = typeof address === 'string' ? [address] : address.map((entry) => entry.address);
      expect(answered).toEqual(expected);
      expect(policy.checked).toEqual(expect.arrayContaining(answered));
    }
  });
});

describe('createGuardedLookup fails closed on DNS failure', () => {
  it.each<[string, ResolvedAddress[] | Error, boolean]>([
    ['EAI_AGAIN', dnsFailure('EAI_AGAIN'), true],
    ['ETIMEOUT', dnsFailure('ETIMEOUT'), true],
    ['ESERVFAIL', dnsFailure('ESERVFAIL'), true],
    ['ENOTFOUND', dnsFailure('ENOTFOUND'), false],
    ['ENODATA', dnsFailure('ENODATA'), false],
    ['an error without a code', new Error('resolver crashed'), false],
    ['an empty answer', [], false],
  ])('%s is a DNS error, retryable: %s', async (_name, answer, retryable) => {
    for (const options of [{ all: true }, { all: false }]) {
      const failure = lookupOnce(createGuardedLookup(strict, stubResolver(answer)), 'example.com', options);
      await expect(failure).rejects.toBeInstanceOf(FetchError);
      await expect(failure).rejects.toMatchObject({ code: 'DNS', retryable });
      if (answer instanceof Error) await expect(failure).rejects.toMatchObject({ cause: answer });
    }
  });

  it.each<[number, ResolvedAddress[]]>([
    [6, [v4('1.1.1.1')]],
    [4, [v6('2606:4700:4700::1111')]],
  ])('no answer of family %i is a DNS error', async (family, answers) => {
    const failure = lookupOnce(createGuardedLookup(strict, stubResolver(answers)), 'example.com', { family });
    await expect(failure).rejects.toMatchObject({ name: 'FetchError', code: 'DNS', retryable: false });
  });
});

describe('createGuardedLookup with net.connect', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function connectVia(policy: AddressPolicy, autoSelectFamily: boolean): Promise<string> {
    const lookup = createGuardedLookup(policy, stubResolver([v4('127.0.0.1')]));
    return new Promise((resolve, reject) => {
      const socket = connect({ host: 'fanout.test', port, lookup, autoSelectFamily });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', reject);
    });
  }

  it.each([[true], [false]])('refuses to connect to loopback (autoSelectFamily %s)', async (auto) => {
    await expect(connectVia(strict, auto)).rejects.toBeInstanceOf(BlockedAddressError);
  });

  it.each([[true], [false]])('connects when allowPrivate (autoSelectFamily %s)', async (auto) => {
    await expect(connectVia(new AddressPolicy({ allowPrivate: true, allow: [] }), auto)).resolves.toBe(
      'connected',
    );
  });
});
