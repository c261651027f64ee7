import { describe, expect, it } from 'vitest';
import { escapeHtml, Html, type HtmlValue, html, truncate } from '../../../lambda/core/report/html.js';

describe('html', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    [`" onmouseover='x'`, '&quot; onmouseover=&#39;x&#39;'],
    ['a & b', 'a &amp; b'],
    ['&amp;', '&amp;amp;'],
    ['plain', 'plain'],
  ])('escapeHtml(%j)', (input, output) => {
    expect(escapeHtml(input)).toBe(output);
  });

  it('escapes every interpolated value, in text and attributes, unless it is already Html', () => {
    const evil = '"><b>x</b>';
    const out = html`<a title="${evil}">${evil}${new Html('<i>ok</i>')}</a>`.text;
    expect(out).toBe('<a title="&quot;&gt;&lt;b&gt;x&lt;/b&gt;">&quot;&gt;&lt;b&gt;x&lt;/b&gt;<i>ok</i></a>');
  });

  it('joins lists, prints numbers, drops null, undefined and false', () => {
    const items: HtmlValue[] = ['<a>', html`<b>${1}</b>`, [2, null], undefined, false];
    expect(html`${items}|${0}`.text).toBe('&lt;a&gt;<b>1</b>2|0');
  });

  it('truncates with an ellipsis, never splitting a surrogate pair', () => {
    expect(truncate('abcdef', 6)).toBe('abcdef');
    expect(truncate('abcdefg', 6)).toBe('abcde…');
    expect(truncate('abcd😀xyz', 6)).toBe('abcd…');
    expect(truncate('abc😀xyz', 6)).toBe('abc😀…');
  });
});
