import { labelValue } from './neolight.metrics.js';

describe('labelValue', () => {
  it('keeps a name of up to 64 characters as it is', () => {
    expect(labelValue('SmartTrader')).toBe('SmartTrader');
    expect(labelValue('a'.repeat(64))).toBe('a'.repeat(64));
  });

  it('keeps two long names that share their first 64 characters apart, within 64 characters', () => {
    // Act
    const one = labelValue(`${'A'.repeat(64)}one`);
    const two = labelValue(`${'A'.repeat(64)}two`);

    // Assert
    expect(one).not.toBe(two);
    expect([one.length, two.length]).toEqual([64, 64]);
    expect(one.startsWith('A'.repeat(55))).toBe(true);
    expect(labelValue(`${'A'.repeat(64)}one`)).toBe(one);
  });

  it('hashes a short name with a "~" too, so it cannot pose as a long name\'s label', () => {
    const long = labelValue(`${'A'.repeat(64)}one`);
    expect(labelValue(long)).not.toBe(long);
    expect(labelValue('a~b')).not.toBe('a~b');
  });
});
