// Image names: per app, so two apps' functions of the same name never share a tag; Fn's rule outside an app.
import { describe, expect, it } from 'vitest';
import { isFnNodeImage } from '../src/build/fn-run-image.js';
import { appImageComponent, imageName } from '../src/build/function-image.js';
import type { FuncFile } from '../src/funcfile.js';

const fn = (name: string) => ({ schema_version: 20180708, name, version: '0.0.1', runtime: 'node' }) as FuncFile;

describe('image names', () => {
  it('puts the app between the registry and the function name', () => {
    expect(imageName(fn('hello'), '0.0.2', undefined, 'shop')).toBe('shop/hello:0.0.2');
    expect(imageName(fn('hello'), '0.0.2', undefined, 'store')).toBe('store/hello:0.0.2');
    expect(imageName(fn('hello'), '0.0.2', '127.0.0.1:5000/team/', 'shop')).toBe('127.0.0.1:5000/team/shop/hello:0.0.2');
  });

  it("keeps Fn's <name>:<version> outside an app, which no per-app name can equal", () => {
    expect(imageName(fn('hello'), '0.0.2')).toBe('hello:0.0.2');
    expect(imageName(fn('hello'), '0.0.2', '127.0.0.1:5000')).toBe('127.0.0.1:5000/hello:0.0.2');
  });

  it('uses an app name as it is when Docker accepts it, else a lowercase form with a hash that no app name can have', () => {
    expect(['shop', 'my-shop', 'my_shop', 'a__b', 'x--y', 'e2e'].map(appImageComponent)).toEqual(['shop', 'my-shop', 'my_shop', 'a__b', 'x--y', 'e2e']);
    const upper = appImageComponent('Shop');
    expect(upper).toBe('shop.d00aae6b'); // the example in the README
    expect(appImageComponent('SHOP')).not.toBe(upper);
    expect(appImageComponent('Shop')).toBe(upper);
    expect(appImageComponent('café')).toMatch(/^cafe\.[0-9a-f]{8}$/);
    expect(appImageComponent('_x_')).toMatch(/^x\.[0-9a-f]{8}$/);
    expect(appImageComponent('日本')).toMatch(/^app\.[0-9a-f]{8}$/);
  });
});

describe("Fn's node images", () => {
  it('are the run and build images fn init writes, with any tag, and nothing else', () => {
    expect(['fnproject/node:20', 'fnproject/node:20-dev', 'fnproject/node', 'fnproject/node:latest'].map(isFnNodeImage)).toEqual([true, true, true, true]);
    expect(['node:20-slim', 'fnproject/python:3.11', 'fnts/node:20', 'evil/fnproject/node:20'].map(isFnNodeImage)).toEqual([false, false, false, false]);
  });
});
