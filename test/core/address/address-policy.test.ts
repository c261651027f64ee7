import { describe, expect, it } from 'vitest';
import { AddressPolicy, ipLiteral } from '../../../lambda/core/address/address-policy.js';
import { InvalidOptionError } from '../../../lambda/core/errors.js';

const strict = new AddressPolicy({ allowPrivate: false, allow: [] });

/** What a URL's host means to the policy: WHATWG parsing, then the literal, then the check. */
function verdict(policy: AddressPolicy, url: string): string | null {
  const ip = ipLiteral(new URL(url).hostname);
  if (ip === null) throw new Error(`${url} is not an IP literal`);
  return policy.check(ip);
}

// Teredo client IPv4 is stored XOR-ed with 0xffffffff; server 65.54.227.120 is public.
const teredo = (client: string) => `http://[2001:0:4136:e378:8000:63bf:${client}]/`;

/** [url as a user would write it, the plain IP WHATWG URL makes of it, the reason it is blocked] */
const BLOCKED: [string, string, string][] = [
  ['http://2130706433/', '127.0.0.1', 'loopback'],
  ['http://0x7f.1/', '127.0.0.1', 'loopback'],
  ['http://0x7f000001/', '127.0.0.1', 'loopback'],
  ['http://0177.0.0.1/', '127.0.0.1', 'loopback'],
  ['http://127.1/', '127.0.0.1', 'loopback'],
  ['http://127.0.0.1./', '127.0.0.1', 'loopback'],
  ['http://127.0.0.1:9001/', '127.0.0.1', 'loopback'],
  ['http://012.0.0.1/', '10.0.0.1', 'private'],
  ['http://１２７.０.０.１/', '127.0.0.1', 'loopback'],
  ['http://127。0。0。1/', '127.0.0.1', 'loopback'],
  ['http://0/', '0.0.0.0', 'unspecified'],
  ['http://0.0.0.0/', '0.0.0.0', 'unspecified'],
  ['http://10.255.255.255/', '10.255.255.255', 'private'],
  ['http://172.16.0.1/', '172.16.0.1', 'private'],
  ['http://172.31.255.255/', '172.31.255.255', 'private'],
  ['http://192.168.1.1/', '192.168.1.1', 'private'],
  ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'link-local'],
  ['http://169.254.170.2/v2/credentials', '169.254.170.2', 'link-local'],
  ['http://100.64.0.1/', '100.64.0.1', 'cgnat'],
  ['http://100.127.255.255/', '100.127.255.255', 'cgnat'],
  ['http://198.18.0.1/', '198.18.0.1', 'benchmarking'],
  ['http://192.0.2.1/', '192.0.2.1', 'documentation'],
  ['http://198.51.100.1/', '198.51.100.1', 'documentation'],
  ['http://203.0.113.1/', '203.0.113.1', 'documentation'],
  ['http://192.0.0.1/', '192.0.0.1', 'reserved'],
  ['http://224.0.0.1/', '224.0.0.1', 'multicast'],
  ['http://240.0.0.1/', '240.0.0.1', 'reserved'],
  ['http://255.255.255.255/', '255.255.255.255', 'broadcast'],
  ['http://[::]/', '::', 'unspecified'],
  ['http://[::1]:8080/', '::1', 'loopback'],
  ['http://[0:0:0:0:0:0:0:1]/', '::1', 'loopback'],
  ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1', 'ipv4-mapped'],
  ['http://[::ffff:7f00:1]/', '::ffff:7f00:1', 'ipv4-mapped'],
  ['http://[::ffff:a9fe:a9fe]/', '::ffff:a9fe:a9fe', 'ipv4-mapped'],
  ['http://[::ffff:8.8.8.8]/', '::ffff:808:808', 'ipv4-mapped'],
  ['http://[::127.0.0.1]/', '::7f00:1', 'ipv4-compatible'],
  ['http://[::ffff:0:a00:1]/', '::ffff:0:a00:1', 'ipv4-translated'],
  ['http://[64:ff9b::a00:1]/', '64:ff9b::a00:1', 'nat64'],
  ['http://[64:ff9b::169.254.169.254]/', '64:ff9b::a9fe:a9fe', 'nat64'],
  ['http://[64:ff9b:1::808:808]/', '64:ff9b:1::808:808', 'nat64'],
  ['http://[2002:a00:1::]/', '2002:a00:1::', '6to4'],
  ['http://[2002:7f00:1::1]/', '2002:7f00:1::1', '6to4'],
  [teredo('f5ff:fffe'), '2001:0:4136:e378:8000:63bf:f5ff:fffe', 'teredo'],
  [teredo('80ff:fffe'), '2001:0:4136:e378:8000:63bf:80ff:fffe', 'teredo'],
  ['http://[fd00:ec2::254]/', 'fd00:ec2::254', 'unique-local'],
  ['http://[fc00::1]/', 'fc00::1', 'unique-local'],
  ['http://[fe80::1]/', 'fe80::1', 'link-local'],
  ['http://[fec0::1]/', 'fec0::1', 'site-local'],
  ['http://[ff02::1]/', 'ff02::1', 'multicast'],
  ['http://[100::1]/', '100::1', 'discard'],
  ['http://[2001:db8::1]/', '2001:db8::1', 'documentation'],
  ['http://[3fff::1]/', '3fff::1', 'documentation'],
  ['http://[2001:2::1]/', '2001:2::1', 'benchmarking'],
  ['http://[2001:10::1]/', '2001:10::1', 'reserved'],
  ['http://[5f00::1]/', '5f00::1', 'reserved'],
  ['http://[4000::1]/', '4000::1', 'reserved'],
];

const PUBLIC: [string, string][] = [
  ['http://8.8.8.8/', '8.8.8.8'],
  ['http://1.1.1.1/', '1.1.1.1'],
  ['http://93.184.216.34/', '93.184.216.34'],
  ['http://134744072/', '8.8.8.8'],
  ['http://172.32.0.1/', '172.32.0.1'],
  ['http://100.128.0.1/', '100.128.0.1'],
  ['http://[2606:4700:4700::1111]/', '2606:4700:4700::1111'],
  ['http://[2a00:1450:4001:80b::200e]/', '2a00:1450:4001:80b::200e'],
  ['http://[64:ff9b::808:808]/', '64:ff9b::808:808'],
  ['http://[2002:808:808::1]/', '2002:808:808::1'],
  [teredo('f7f7:f7f7'), '2001:0:4136:e378:8000:63bf:f7f7:f7f7'],
];

describe('ipLiteral', () => {
  it.each(BLOCKED.map(([url, ip]) => [url, ip]))('%s is the literal %s', (url, ip) => {
    expect(ipLiteral(new URL(url).hostname)).toBe(ip);
  });

  it.each([
    ['http://example.com/'],
    ['http://localhost/'],
    ['http://127.0.0.1.nip.io/'],
    ['http://xn--nxa/'],
  ])('%s is not a literal', (url) => {
    expect(ipLiteral(new URL(url).hostname)).toBeNull();
  });

  it.each([
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['[127.0.0.1]', null],
    ['[example.com]', null],
    ['', null],
  ])('ipLiteral(%j) is %j', (hostname, expected) => {
    expect(ipLiteral(hostname)).toBe(expected);
  });
});

describe('AddressPolicy by default', () => {
  it.each(BLOCKED)('blocks %s (%s) as %s', (url, _ip, reason) => {
    expect(verdict(strict, url)).toBe(reason);
  });

  it.each(PUBLIC)('allows %s (%s)', (url) => {
    expect(verdict(strict, url)).toBeNull();
  });

  it.each([
    ['fe80::1%eth0', 'link-local'],
    ['2606:4700:4700::1111%1', null],
    ['::1%lo', 'loopback'],
    ['::127.0.0.1', 'ipv4-compatible'],
    ['::ffff:127.0.0.1', 'ipv4-mapped'],
    ['64:ff9b::10.0.0.1', 'nat64'],
    ['64:ff9b::8.8.8.8', null],
    ['2001:4860:4860:0:0:0:0:8888', null],
  ])('reads the plain address %s: %s', (address, reason) => {
    expect(strict.check(address)).toBe(reason);
  });

  it.each([
    [''],
    ['example.com'],
    ['127.1'],
    ['0x7f000001'],
    ['0177.0.0.1'],
    ['1.2.3.4.5'],
    ['[::1]'],
    ['::1::'],
  ])('fails closed on unparseable %j', (address) => {
    expect(strict.check(address)).toBe('unparseable');
  });
});

describe('AddressPolicy with allowPrivate', () => {
  const open = new AddressPolicy({ allowPrivate: true, allow: [] });

  it.each(BLOCKED)('allows %s', (url) => {
    expect(verdict(open, url)).toBeNull();
  });

  it('still refuses an unparseable address', () => {
    expect(open.check('not-an-ip')).toBe('unparseable');
  });
});

describe('AddressPolicy with an allow list', () => {
  it.each<[string[], string, string | null]>([
    [['127.0.0.0/8'], '127.0.0.1', null],
    [['127.0.0.0/8'], '127.255.255.254', null],
    [['127.0.0.0/8'], '::ffff:127.0.0.1', null],
    [['127.0.0.0/8'], '10.0.0.1', 'private'],
    [['127.0.0.0/8'], '::1', 'loopback'],
    [['127.0.0.0/8'], '169.254.169.254', 'link-local'],
    [['127.0.0.0/8'], '::127.0.0.1', 'ipv4-compatible'],
    [['10.1.2.3'], '10.1.2.3', null],
    [['10.1.2.3'], '10.1.2.4', 'private'],
    [['10.1.2.3/32', ' 192.168.0.0/16 '], '192.168.7.7', null],
    [['fd00::/8'], 'fd00:ec2::254', null],
    [['fd00::/8'], 'fc00::1', 'unique-local'],
    [['::1'], '::1', null],
    [['::ffff:10.0.0.0/104'], '10.0.0.1', null],
    [['0.0.0.0/0'], '224.0.0.1', null],
  ])('allow %j: %s -> %s', (allow, address, reason) => {
    expect(new AddressPolicy({ allowPrivate: false, allow }).check(address)).toBe(reason);
  });

  it.each([
    [''],
    ['not-an-ip'],
    ['10.0.0.0/33'],
    ['::/129'],
    ['10.0.0.0/'],
    ['10.0.0/8'],
    ['0x7f.0.0.1/8'],
    ['127.1/8'],
    ['fe80::1%eth0/64'],
    ['10.0.0.0/8/8'],
    ['10.0.0.0/-1'],
    ['10.0.0.0/08'],
    ['[::1]/128'],
  ])('rejects %j, naming allow and the expected form', (cidr) => {
    const build = () => new AddressPolicy({ allowPrivate: false, allow: ['10.0.0.0/8', cidr] });
    expect(build).toThrow(InvalidOptionError);
    expect(build).toThrow(/^allow: .*is not valid; expected an IP or CIDR such as '10\.0\.0\.0\/8'/);
    try {
      build();
    } catch (error) {
      expect(error).toMatchObject({ option: 'allow', code: 'INVALID_OPTION' });
      expect((error as Error).message).toContain(JSON.stringify(cidr));
    }
  });
});
