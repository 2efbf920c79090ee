import { afterEach, expect, test, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

test('the keep-active event is answered without resolving or running the step', async () => {
  // A function whose step name is wrong would throw on any real event: the no-op never gets that far.
  vi.stubEnv('MLP_STEP', 'NoSuchStep');
  const { handler } = await import('../../runbooks/lambda');
  await expect(handler({ mlpKeepActive: true })).resolves.toEqual({ keptActive: 'NoSuchStep' });
  await expect(handler({ state: {}, execution: { id: 'x', startTime: '' } })).rejects.toThrow(/MLP_STEP must name a runbook step/);
});
