import { PRIMARY_WATCH } from '../definitions/catalogue';
import { STEPS } from '../steps';
import { SimulatedAlarms } from './alarms';
import { MODELLED_SECONDS } from './fake-aws';
import type { SimulatedPlatform } from './simulated-platform';

/** An execution an EventBridge rule started, and when. */
export interface AutomaticStart {
  readonly region: string;
  readonly ruleName: string;
  readonly stateMachineArn: string;
  readonly input: unknown;
  /** When the alarm changed state (platform clock). */
  readonly alarmedAt: Date;
  /** When the execution starts: the event delivered (`MODELLED_SECONDS.eventBridgeDelivery`). */
  readonly startedAt: Date;
}

export interface AwaitAutomaticStartOptions {
  /** Whether a region runs anything now (its watchdog among them): a lost region does not. */
  readonly live: (region: string) => boolean;
  /** Whatever else runs on the clock meanwhile (the gate keepers), called after each watchdog pass. */
  readonly between?: () => Promise<void>;
  /** Give up after this many seconds of the clock. */
  readonly maxSeconds: number;
}

/**
 * Time passes on the platform's clock in the watchdog's steps (`PRIMARY_WATCH.intervalSeconds`): at
 * each, CloudWatch evaluates the synthesized alarms over the periods that have ended, then every live
 * region's watchdog (WatchPrimary, as its role) runs its pass. When a rule fires on an alarm's change
 * of state, the event's delivery passes and the execution it starts is returned; nothing if none
 * fired within `maxSeconds`.
 */
export async function awaitAutomaticStart(
  platform: SimulatedPlatform,
  options: AwaitAutomaticStartOptions,
): Promise<AutomaticStart | undefined> {
  const alarms = new SimulatedAlarms(platform.assembly, platform.aws, platform.now);
  const step = PRIMARY_WATCH.intervalSeconds * 1000;
  const deadline = platform.now().getTime() + options.maxSeconds * 1000;
  for (;;) {
    const [fired] = await alarms.evaluate();
    if (fired) {
      const alarmedAt = platform.now();
      platform.aws.advance(MODELLED_SECONDS.eventBridgeDelivery.seconds);
      return { ...fired, alarmedAt, startedAt: platform.now() };
    }
    if (platform.now().getTime() >= deadline) return undefined;
    for (const region of platform.regions.filter(options.live)) {
      await STEPS.WatchPrimary({} as never, platform.deps(region, 'WatchPrimary')).catch(() => undefined);
    }
    await options.between?.();
    const now = platform.now().getTime();
    platform.aws.advance((Math.floor(now / step) * step + step - now) / 1000);
  }
}
