import { describe, expect, it } from 'vitest';
import { checkUrl } from '../../../lambda/core/input/url-check.js';

const MAX = 100;

describe('checkUrl', () => {
  it.each([
    ['https://example.com', 'https://example.com'],
    ['http://example.com/a/b?c=d#e', 'http://example.com/a/b?c=d#e'],
    ['  https://example.com/padded \t', 'https://example.com/padded'],
    ['HTTPS://EXAMPLE.COM/Upper', 'HTTPS://EXAMPLE.COM/Upper'],
    ['Http://example.com', 'Http://example.com'],
    ['https://user:pw@example.com:8443/x', 'https://user:pw@example.com:8443/x'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080/'],
    ['http://[::1]/', 'http://[::1]/'],
    ['https://bücher.example/straße', 'https://bücher.example/straße'],
    ['https://example.com/%7Euser', 'https://example.com/%7Euser'],
    ['http:example.com', 'http:example.com'],
    ['https://example.com/a,b;c', 'https://example.com/a,b;c'],
  ])('accepts %j as %j (as given, not normalised)', (raw, url) => {
    expect(checkUrl(raw, MAX)).toEqual({ ok: true, url });
  });

  it.each([
    ['', 'INVALID_URL', /empty/],
    ['   ', 'INVALID_URL', /empty/],
    ['example.com/path', 'INVALID_URL', /no scheme/],
    ['example.com:80/path', 'INVALID_URL', /no scheme/],
    ['localhost:8080', 'INVALID_URL', /no scheme/],
    ['//example.com/x', 'INVALID_URL', /no scheme/],
    ['http://', 'INVALID_URL', /not a valid URL/],
    ['https://?q=1', 'INVALID_URL', /not a valid URL/],
    ['https://exa mple.com', 'INVALID_URL', /U\+0020/],
    ['https://example.com/a\tb', 'INVALID_URL', /U\+0009/],
    ['https://example.com/\u0000', 'INVALID_URL', /U\+0000/],
    ['https://example.com/\u007f', 'INVALID_URL', /U\+007F/],
    ['https://example.com/\u0085', 'INVALID_URL', /U\+0085/],
    ['https://example.com/\u00a0x', 'INVALID_URL', /U\+00A0/],
    ['https://example.com/a\u2028b', 'INVALID_URL', /U\+2028/],
    ['https://exa[mple.com/', 'INVALID_URL', /not a valid URL/],
    ['http://300.1.1.1/', 'INVALID_URL', /not a valid URL/],
    ['file:///etc/passwd', 'UNSUPPORTED_SCHEME', /file:/],
    ['FILE:///etc/passwd', 'UNSUPPORTED_SCHEME', /file:/],
    ['data:text/plain,hello', 'UNSUPPORTED_SCHEME', /data:/],
    ['gopher://example.com/', 'UNSUPPORTED_SCHEME', /gopher:/],
    ['ftp://example.com/file', 'UNSUPPORTED_SCHEME', /ftp:/],
    ['javascript:alert(1)', 'UNSUPPORTED_SCHEME', /javascript:/],
    ['mailto:someone@example.com', 'UNSUPPORTED_SCHEME', /mailto:/],
    ['ws://example.com/socket', 'UNSUPPORTED_SCHEME', /ws:/],
    [`https://example.com/${'a'.repeat(MAX)}`, 'URL_TOO_LONG', /at most 100/],
  ])('rejects %j with %s', (raw, code, message) => {
    const result = checkUrl(raw, MAX);
    expect(result).toMatchObject({ ok: false, code });
    expect(result.ok ? '' : result.message).toMatch(message);
  });

  it('counts the length after trimming', () => {
    const url = `https://e.com/${'a'.repeat(MAX - 14)}`;
    expect(url).toHaveLength(MAX);
    expect(checkUrl(`  ${url}  `, MAX)).toEqual({ ok: true, url });
    expect(checkUrl(`${url}a`, MAX)).toMatchObject({ ok: false, code: 'URL_TOO_LONG' });
  });
});
