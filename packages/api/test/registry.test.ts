import { describe, expect, it } from 'vitest';
import { ENV, HEADER, HOP_BY_HOP_HEADERS } from '../src/contract.js';
import { API_ERROR_CODES, API_ERRORS, ERROR_CODE } from '../src/errors.js';
import { failsWith } from '../src/schemas/common.js';

describe('the error registry', () => {
  it('gives every error a distinct FNTS_ERR_ code and an HTTP error status', () => {
    expect(new Set(API_ERROR_CODES).size).toBe(API_ERROR_CODES.length);
    for (const [name, e] of Object.entries(API_ERRORS)) {
      expect(e.code, name).toMatch(/^FNTS_ERR_[A-Z]+(_[A-Z]+)*$/);
      expect(e.status, name).toBeGreaterThanOrEqual(400);
      expect(e.status, name).toBeLessThan(600);
      expect(ERROR_CODE[name as keyof typeof ERROR_CODE]).toBe(e.code);
    }
  });

  it('describes an operation\'s errors by status, naming each code, always with a 500', () => {
    const responses = failsWith('appNotFound', 'fnNotFound', 'validation');
    expect(Object.keys(responses).sort()).toEqual(['400', '404', '500']);
    expect(responses[404]?.description).toBe(
      `${API_ERRORS.appNotFound.code}: ${API_ERRORS.appNotFound.description}; ${API_ERRORS.fnNotFound.code}: ${API_ERRORS.fnNotFound.description}`,
    );
    expect(responses[500]?.required).toEqual(['message', 'code']);
  });
});

describe('the http-stream contract names', () => {
  it('spells env vars as FN_* (and the one fnts extension) and headers in canonical form', () => {
    for (const name of Object.values(ENV)) expect(name).toMatch(/^(FN|FNTS)_[A-Z_]+$/);
    for (const name of [...Object.values(HEADER), ...HOP_BY_HOP_HEADERS]) expect(name).toMatch(/^[A-Z][a-z]*(-[A-Z][a-z]*)*$/);
  });
});
