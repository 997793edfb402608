/**
 * The rules every listener applies, as pure functions: which Host and Origin values are
 * this machine's own, what `--allowed-hosts` accepts, and the JSON depth scan that runs
 * before any parse.
 */
import { describe, expect, it } from 'vitest';
import { assertLoopbackBind, checkRequest, hostName, isAllowedOrigin, jsonDepthExceeds, parseAllowedHosts } from '#local/guard';

describe('Host', () => {
  it('accepts loopback names with or without a port and refuses every other name, unless allowed', () => {
    const ok = (host: string, allowed: string[] = []) => checkRequest({ host }, allowed) === undefined;

    expect(['localhost', 'localhost:4566', 'LOCALHOST:3000', '127.0.0.1', '127.0.0.1:4566', '127.1.2.3:80', '[::1]', '[::1]:3000', 'app.localhost:3000'].every((h) => ok(h))).toBe(true);
    expect(['rebind.attacker.example', 'rebind.attacker.example:4566', '10.0.0.5:4566', '0.0.0.0:4566', 'localhost.evil.test', '127.0.0.1.nip.io', '[::2]:3000', ''].some((h) => ok(h))).toBe(false);
    expect(ok('devbox.test:4566', ['devbox.test'])).toBe(true);
    expect(ok('a.b.example.test', ['.example.test'])).toBe(true);
    expect(ok('example.test', ['.example.test'])).toBe(true);
    expect(ok('badexample.test', ['.example.test'])).toBe(false);
    expect(checkRequest({})).toMatchObject({ status: 403, code: 'ForbiddenHost' });
    expect(hostName('[::1]:3000')).toBe('::1');
  });
});

describe('Origin', () => {
  it('accepts pages served from this machine and refuses other sites, null and other schemes', () => {
    expect(['http://localhost:5173', 'http://127.0.0.1:3000', 'https://[::1]:8443'].every((o) => isAllowedOrigin(o))).toBe(true);
    expect(['https://attacker.example', 'null', 'file://', 'chrome-extension://abc', 'http://localhost.attacker.example'].some((o) => isAllowedOrigin(o))).toBe(false);
    expect(checkRequest({ host: 'localhost', 'sec-fetch-site': 'cross-site' })).toMatchObject({ code: 'ForbiddenOrigin' });
    expect(checkRequest({ host: 'localhost', 'sec-fetch-site': 'same-origin' })).toBeUndefined();
  });
});

describe('--allowed-hosts', () => {
  it('takes host names and .domain suffixes, and refuses ports, schemes and wildcards naming the entry', () => {
    expect(parseAllowedHosts(' devbox.local, .Example.test ,')).toEqual(['devbox.local', '.example.test']);
    expect(parseAllowedHosts(undefined)).toEqual([]);
    for (const bad of ['devbox:3000', 'http://devbox', '*', '*.example.test']) {
      expect(() => parseAllowedHosts(bad)).toThrow(`allowed host "${bad}" must be a host name`);
    }
  });
});

describe('listen address', () => {
  it('is loopback only', () => {
    for (const host of ['127.0.0.1', '::1', 'localhost', '127.0.0.2']) expect(() => assertLoopbackBind(host)).not.toThrow();
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'example.test']) expect(() => assertLoopbackBind(host)).toThrow(/loopback only/);
  });
});

describe('JSON depth', () => {
  it('finds nesting past the limit in one pass, ignoring brackets inside strings', () => {
    const deep = (n: number) => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`);

    expect(jsonDepthExceeds(deep(200_000))).toBe(true);
    expect(jsonDepthExceeds(deep(1_000))).toBe(false);
    expect(jsonDepthExceeds(deep(1_001))).toBe(true);
    expect(jsonDepthExceeds(Buffer.from(JSON.stringify({ text: '['.repeat(5_000), quoted: '\\"[[[' })))).toBe(false);
  });
});
