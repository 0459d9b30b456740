import { describe, expect, test } from 'vitest';
import { Anonymizer, anonymize } from '../../src/events/anonymizer.js';
import { ANONYMIZED_RE } from '../../src/events/vocabulary.js';

// teleport-events.md §6 table (computed with Python hmac/hashlib/base64).
const VECTORS = [
  ['key', 'secret', 'Jc88RMjzkxPoy/fCPiL+iy7osojuUgawpjl1g6H38O8=', '25cf3c44c8f39313e8cbf7c23e22fe8b2ee8b288ee5206b0a6397583a1f7f0ef'],
  ['anon-key-or-cluster-id', 'myuser', '2y57N32jSHsw2Zty82yFtr4BEcMvRyCPhmFfbxH5Gf0=', 'db2e7b377da3487b30d99b72f36c85b6be0111c32f47208f86615f6f11f919fd'],
  ['anon-key-or-cluster-id', 'someid', 'po2soWJHGpKVzBmo++CmrC2/ULVeJufIK9dJBf3CT+M=', 'a68daca162471a9295cc19a8fbe0a6ac2dbf50b55e26e7c82bd74905fdc24fe3'],
] as const;

describe('Teleport anonymizer (HMAC-SHA256, standard base64)', () => {
  test.each(VECTORS)('key %s, input %s', (key, input, b64, hex) => {
    const a = new Anonymizer(key);
    expect(a.anonymizeString(input)).toBe(b64);
    expect(anonymize(key, input)).toBe(b64);
    expect(a.anonymizeNonEmpty(input).toString('hex')).toBe(hex);
    expect(b64).toMatch(ANONYMIZED_RE);
  });

  test('AnonymizeNonEmpty returns nothing for empty input', () => {
    expect(new Anonymizer('key').anonymizeNonEmpty('').length).toBe(0);
  });

  test('a blank key is rejected like NewHMACAnonymizer', () => {
    expect(() => new Anonymizer(' ')).toThrow(/blank/);
    expect(() => new Anonymizer('')).toThrow(/empty/);
  });

  test('different keys give different names for the same input', () => {
    expect(anonymize('k1', 'alice')).not.toBe(anonymize('k2', 'alice'));
  });
});
