import { describe, expect, it } from 'vitest';
import { FetchError } from '../../../lambda/core/errors.js';
import { nextHop, redirectLocation } from '../../../lambda/core/fetch/redirect-policy.js';

describe('redirectLocation', () => {
  it.each<[number, string | null, string | null]>([
    [301, '/a', '/a'],
    [302, '/a', '/a'],
    [303, '/a', '/a'],
    [307, '/a', '/a'],
    [308, '/a', '/a'],
    [300, '/a', null],
    [304, '/a', null],
    [200, '/a', null],
    [302, null, null],
  ])('%i with Location %s → %s', (status, location, expected) => {
    expect(redirectLocation(status, location)).toBe(expected);
  });
});

describe('nextHop', () => {
  const from = new URL('https://a.example/dir/page?q=1');

  it.each([
    ['other', 'https://a.example/dir/other'],
    ['/root', 'https://a.example/root'],
    ['//b.example/x', 'https://b.example/x'],
    ['http://c.example:8080/y', 'http://c.example:8080/y'],
  ])('resolves %s against the hop it came from', (location, expected) => {
    expect(nextHop(location, from, 0, 5).href).toBe(expected);
  });

  it.each<[string, number, number, string, RegExp]>([
    ['/again', 5, 5, 'TOO_MANY_REDIRECTS', /more than 5 redirects/],
    ['/again', 0, 0, 'TOO_MANY_REDIRECTS', /more than 0 redirects/],
    ['file:///etc/passwd', 0, 5, 'BAD_REDIRECT', /scheme file: is not allowed/],
    ['http://[::1', 0, 5, 'BAD_REDIRECT', /not a valid URL/],
  ])('%s after %i of %i redirects → %s', (location, redirects, max, code, message) => {
    const hop = () => nextHop(location, from, redirects, max);
    expect(hop).toThrow(FetchError);
    expect(hop).toThrow(message);
    try {
      hop();
    } catch (err) {
      expect((err as FetchError).code).toBe(code);
    }
  });
});
