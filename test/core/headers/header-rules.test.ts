import { describe, expect, it } from 'vitest';
import { headersProblem, isSensitive, splitHeaderLine } from '../../../lambda/core/headers/header-rules.js';
import {
  localReferences,
  referenceProblem,
  resolveHeaders,
} from '../../../lambda/core/headers/header-values.js';
import { REDACTED, redactHeaders } from '../../../lambda/core/headers/redact-headers.js';
import { checkJobOptions } from '../../../lambda/core/options.js';

describe('headersProblem', () => {
  it.each([
    [{ Accept: 'application/json', 'X-Api-Key': 'abc', 'X-Empty': '' }, undefined],
    [{ Authorization: 'env:TOKEN', Cookie: 'secret:fanout/c' }, undefined],
    [{ 'Bad Name': 'x' }, '"Bad Name" is not a valid HTTP token'],
    [{ 'X-A': 'a\r\nInjected: 1' }, 'X-A: value must not contain CR, LF or NUL'],
    [{ 'X-A': 'a\u0001b' }, 'X-A: value has a character HTTP does not allow'],
    [{ 'X-A': 'caf\u20ac' }, 'X-A: value has a character HTTP does not allow'],
    [{ 'X-A': ' padded' }, 'X-A: value must not begin or end with whitespace'],
    [{ 'X-A': 1 }, 'X-A: value must be a string'],
    [{ Host: 'example.com' }, 'Host may not be set'],
    [{ 'content-length': '1' }, 'content-length may not be set'],
    [{ TE: 'trailers' }, 'TE may not be set'],
    [{ 'Proxy-Connection': 'x' }, 'Proxy-Connection may not be set'],
    [{ 'User-Agent': 'x' }, 'User-Agent is set by its own option'],
    [{ 'x-a': '1', 'X-A': '2' }, 'X-A is given twice'],
    [{ Authorization: 'Bearer abc' }, 'Authorization is sensitive'],
    [{ 'proxy-authorization': 'Basic abc' }, 'proxy-authorization is sensitive'],
    [{ Authorization: 'env:' }, 'must name a variable or secret'],
    [['a'], 'must be an object'],
  ])('%j: %s', (headers, problem) => {
    const found = headersProblem(headers);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  it('treats names a job marks as sensitive, in any case', () => {
    expect(headersProblem({ 'X-Api-Key': 'abc' }, ['x-api-key'])).toContain('X-Api-Key is sensitive');
    expect(isSensitive('COOKIE')).toBe(true);
    expect(isSensitive('X-Other', ['x-api-key'])).toBe(false);
  });

  it('reads "Name: value" as typed', () => {
    expect(splitHeaderLine('Accept:  text/html ')).toEqual(['Accept', 'text/html']);
    expect(splitHeaderLine('X-Time: 12:30')).toEqual(['X-Time', '12:30']);
    expect(splitHeaderLine('no colon')).toBeUndefined();
    expect(splitHeaderLine(': value')).toBeUndefined();
  });
});

describe('job options headers and sensitiveHeaders', () => {
  it('refuses a literal value for a header the job marks sensitive', () => {
    const { problems } = checkJobOptions({ headers: { 'X-Key': 'abc' }, sensitiveHeaders: ['X-Key'] });
    expect(problems).toEqual([{ option: 'headers', message: expect.stringContaining('X-Key is sensitive') }]);
    expect(checkJobOptions({ headers: { 'X-Key': 'env:K' }, sensitiveHeaders: ['X-Key'] }).problems).toEqual(
      [],
    );
    expect(checkJobOptions({ sensitiveHeaders: ['bad name'] }).problems[0]?.message).toContain('"bad name"');
  });
});

describe('redactHeaders', () => {
  it('hides sensitive values and keeps names and the rest', () => {
    expect(
      redactHeaders({ Authorization: 'Bearer a', accept: '*/*', 'X-Key': 'k', cookie: ['a=1', 'b=2'] }, [
        'x-key',
      ]),
    ).toEqual({ Authorization: REDACTED, accept: '*/*', 'X-Key': REDACTED, cookie: [REDACTED, REDACTED] });
    expect(
      redactHeaders(
        [
          ['Proxy-Authorization', 'Basic x'],
          ['Accept', 'a'],
        ],
        [],
      ),
    ).toEqual([
      ['Proxy-Authorization', REDACTED],
      ['Accept', 'a'],
    ]);
  });
});

describe('references', () => {
  const env = { TOKEN: 'Bearer t', BROKEN: 'a\nb' };

  it('reads env: locally and refuses secret: there', () => {
    expect(resolveHeaders({ Authorization: 'env:TOKEN', Accept: 'x' }, localReferences(env))).toEqual({
      Authorization: 'Bearer t',
      Accept: 'x',
    });
    expect(() => resolveHeaders({ Authorization: 'env:MISSING' }, localReferences(env))).toThrow(
      'header Authorization: env:MISSING: environment variable MISSING is not set',
    );
    expect(() => resolveHeaders({ Authorization: 'env:BROKEN' }, localReferences(env))).toThrow(
      'not a valid header value',
    );
    expect(() => resolveHeaders({ Authorization: 'secret:fanout/t' }, localReferences(env))).toThrow(
      'deployed worker',
    );
  });

  it('says where each kind of reference may be used', () => {
    expect(referenceProblem({ A: 'env:TOKEN' }, 'local', { env })).toBeUndefined();
    expect(referenceProblem({ A: 'env:NOPE' }, 'local', { env })).toContain('NOPE is not set');
    expect(referenceProblem({ A: 'secret:fanout/x' }, 'local', { env })).toContain('env:NAME');
    expect(referenceProblem({ A: 'env:TOKEN' }, 'deployed')).toContain('use secret:NAME');
    expect(
      referenceProblem({ A: 'secret:fanout/x' }, 'deployed', { secretPrefix: 'fanout/' }),
    ).toBeUndefined();
    expect(referenceProblem({ A: 'secret:other/x' }, 'deployed', { secretPrefix: 'fanout/' })).toContain(
      'fanout/*',
    );
  });
});
