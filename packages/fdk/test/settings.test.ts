import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { FdkConfigError } from '../src/errors.js';
import { FDK_VERSION, fdkRuntimeHeader, fdkVersionHeader } from '../src/protocol.js';
import { functionConfig, resolveSettings } from '../src/settings.js';

const LISTENER = 'unix:/tmp/iofs/lsnr.sock';

describe('resolveSettings', () => {
  it('derives the phony socket in the same directory from FN_LISTENER', () => {
    const settings = resolveSettings({ FN_FORMAT: 'http-stream', FN_LISTENER: LISTENER });
    expect(settings.socket).toEqual({
      listenerPath: '/tmp/iofs/lsnr.sock',
      phonyPath: '/tmp/iofs/lsnr.sock.tmp',
      phonyName: 'lsnr.sock.tmp',
    });
    expect(settings.inputMode).toBe('json');
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('prefers the listener option to the env', () => {
    const settings = resolveSettings({ FN_LISTENER: LISTENER }, { listener: 'unix:/run/other.sock' });
    expect(settings.socket.listenerPath).toBe('/run/other.sock');
  });

  it('accepts a socket path of exactly 107 bytes only if its phony also fits', () => {
    const dir = '/tmp/';
    const fits = `unix:${dir}${'a'.repeat(107 - dir.length - 4)}`; // phony is exactly 107
    expect(resolveSettings({}, { listener: fits }).socket.phonyPath).toHaveLength(107);
    const phonyTooLong = `unix:${dir}${'a'.repeat(107 - dir.length)}`;
    expect(() => resolveSettings({}, { listener: phonyTooLong })).toThrow(/\.tmp' is 111 bytes, the limit is 107/);
  });

  it('counts bytes, not characters', () => {
    const listener = `unix:/tmp/${'é'.repeat(52)}`; // a path of 57 characters but 109 bytes
    expect(() => resolveSettings({}, { listener })).toThrow(/é' is 109 bytes/);
  });

  it('collects every problem into one FdkConfigError', () => {
    try {
      resolveSettings({ FN_FORMAT: 'cloudevent' }, { inputMode: 'xml' as never, deadlineGuard: 'yes' as never });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(FdkConfigError);
      expect((error as FdkConfigError).problems).toEqual([
        "FN_FORMAT is 'cloudevent', only 'http-stream' is supported",
        'FN_LISTENER is not set',
        "inputMode is 'xml', expected one of json, string, buffer, stream",
        "deadlineGuard is 'yes', expected true or false",
      ]);
    }
  });

  it('guards deadlines unless told not to', () => {
    expect(resolveSettings({ FN_LISTENER: LISTENER }).deadlineGuard).toBe(true);
    expect(resolveSettings({ FN_LISTENER: LISTENER }, { deadlineGuard: false }).deadlineGuard).toBe(false);
  });

  it('reads function facts and log framing from env', () => {
    const settings = resolveSettings({
      FN_LISTENER: LISTENER,
      FN_FN_ID: 'f',
      FN_APP_ID: 'a',
      FN_MEMORY: '128',
      FN_LOGFRAME_NAME: 'N',
      FN_LOGFRAME_HDR: 'Fn-Call-Id',
    });
    expect(settings.function).toMatchObject({ fnId: 'f', appId: 'a', memory: 128, fnName: undefined });
    expect(settings.logFrame).toEqual({ name: 'N', header: 'Fn-Call-Id' });
    expect(resolveSettings({ FN_LISTENER: LISTENER, FN_MEMORY: 'lots' }).function.memory).toBe(0);
    expect(resolveSettings({ FN_LISTENER: LISTENER, FN_LOGFRAME_NAME: 'N' }).logFrame).toBeNull();
  });
});

describe('functionConfig', () => {
  it('takes exactly the keys named by FNTS_CONFIG_KEYS', () => {
    const env = { FNTS_CONFIG_KEYS: 'A, B,,MISSING', A: '1', B: '', C: '3', PATH: '/bin' };
    expect(functionConfig(env)).toEqual({ A: '1', B: '' });
  });

  it('without FNTS_CONFIG_KEYS, takes the env minus platform, OS, Node and npm variables', () => {
    const env = {
      GREETING: 'hi',
      TZ: 'UTC',
      FN_APP_ID: 'a',
      FN_LISTENER: LISTENER,
      PATH: '/bin',
      HOME: '/home/u',
      HOSTNAME: 'c1',
      NODE_VERSION: '20',
      NODE_OPTIONS: '--x',
      YARN_VERSION: '1',
      npm_config_cache: '/c',
      LC_ALL: 'C',
    };
    expect(functionConfig(env)).toEqual({ GREETING: 'hi', TZ: 'UTC' });
  });

  it('keeps a key named __proto__ as an ordinary, frozen entry', () => {
    const config = functionConfig({ FNTS_CONFIG_KEYS: '__proto__', ['__proto__']: 'x' });
    expect(Object.getOwnPropertyNames(config)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
    expect(Object.isFrozen(config)).toBe(true);
  });
});

describe('FDK identity', () => {
  it('keeps FDK_VERSION equal to package.json and formats the identity headers', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(FDK_VERSION).toBe(pkg.version);
    expect(fdkVersionHeader('v20.1.0')).toBe(`fnts-fdk/${pkg.version} (njsv=v20.1.0)`);
    expect(fdkRuntimeHeader('v20.1.0')).toBe('node/20.1.0');
  });
});
