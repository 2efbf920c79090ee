import { describe, expect, test } from 'vitest';
import { type Sample, sampledInvariants, type WriteProbe } from '../../runbooks/drill/sampler';

const T0 = 1_000_000;
const sample = (seconds: number, probes: Record<string, WriteProbe>, gatesOpen: string[] = []): Sample => ({
  at: T0 + seconds * 1000,
  virtualAt: T0 + seconds * 1000,
  probes,
  gatesOpen,
});
const [ONE_PRIMARY, GATE] = [0, 1];

describe('the invariants judged on the sampled instants', () => {
  test('one writable primary with its gate open, throughout: both hold', () => {
    const invariants = sampledInvariants(
      [
        sample(0, { a: 'writable', b: 'refused' }, ['a']),
        sample(1, { a: 'unreachable', b: 'refused' }, []),
        sample(2, { a: 'unreachable', b: 'writable' }, ['b']),
      ],
      T0,
    );
    expect(invariants.map((i) => i.held)).toEqual([true, true]);
    expect(invariants[ONE_PRIMARY]?.detail).toMatch(/3 samples from \+0\.0 s to \+2\.0 s; writable over the run: a, b/);
  });

  test('two writable databases at one instant break the first, naming them and when', () => {
    const [split] = sampledInvariants([sample(0, { a: 'writable', b: 'refused' }), sample(5, { a: 'writable', b: 'writable' })], T0);
    expect(split?.held).toBe(false);
    expect(split?.detail).toBe('1 of 2 samples saw a and b writable at once, first at +5.0 s');
  });

  test('a former primary back from a loss is excused inside its self-fencing window, and only there', () => {
    const window = [{ region: 'a', from: T0 + 10_000, until: T0 + 130_000 }];
    const inside = sampledInvariants([sample(20, { a: 'writable', b: 'writable' })], T0, window);
    expect(inside[ONE_PRIMARY]?.held).toBe(true);
    expect(inside[ONE_PRIMARY]?.detail).toMatch(
      /1 sample\(s\) with a former primary back from a loss still writable inside its self-fencing bound \(a until \+130\.0 s\)/,
    );
    const after = sampledInvariants([sample(131, { a: 'writable', b: 'writable' })], T0, window);
    expect(after[ONE_PRIMARY]?.held).toBe(false);
    const otherRegion = sampledInvariants([sample(20, { a: 'writable', b: 'writable', c: 'writable' })], T0, window);
    expect(otherRegion[ONE_PRIMARY]?.held).toBe(false);
  });

  test('an open gate on a database that refuses writes breaks the second; on an unreachable one it is counted, not judged', () => {
    const refused = sampledInvariants([sample(3, { a: 'refused', b: 'writable' }, ['a'])], T0);
    expect(refused[GATE]?.held).toBe(false);
    expect(refused[GATE]?.detail).toBe('1 sample(s): a at +3.0 s');
    const unreachable = sampledInvariants([sample(3, { a: 'unreachable' }, ['a'])], T0);
    expect(unreachable[GATE]?.held).toBe(true);
    expect(unreachable[GATE]?.detail).toMatch(/1 sample\(s\) with an open gate on an unreachable database \(not judged\)/);
  });

  test('no sample at all holds nothing', () => {
    expect(sampledInvariants([], T0).map((i) => i.held)).toEqual([false, false]);
  });
});
