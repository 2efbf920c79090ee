import { describe, expect, test } from 'vitest';
import { resolvePlatformConfig } from '../../../lib/config';
import { LayoutAssembly } from '../../support/assembly';
import { LAYOUTS, layoutContext } from '../../support/layouts';

/** A dashboard body as synthesized: a string, or a join of strings and references; the text is what the tests read. */
function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  const join = (body as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`unexpected dashboard body ${JSON.stringify(body).slice(0, 200)}`);
  return join[1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join(join[0]);
}

describe.each(['tier1', 'tier1-rds', 'tier3-5regions', 'tier1-failed-over'])('dashboards of layout %s', (id) => {
  const layout = LAYOUTS.find((l) => l.id === id) as (typeof LAYOUTS)[number];
  const { config } = resolvePlatformConfig(layoutContext(layout));
  const assembly = LayoutAssembly.of(id);
  const tier = config.tier.name;
  const aurora = config.databaseEngine === 'aurora-postgresql-global';
  const dashboardsOf = (stack: string) =>
    Object.values(assembly.resourcesOfType(stack, 'AWS::CloudWatch::Dashboard')).map((d) => ({
      name: d.Properties?.DashboardName,
      body: bodyText(d.Properties?.DashboardBody),
    }));

  test.each(config.regions.map((r) => [r.name, r]))(
    '%s has its own DR dashboard: its paging alarms, the gate and readiness, the runbooks, and a secondary’s lag against the RPO',
    (_name, region) => {
      const dashboards = dashboardsOf(`Mlp-${tier}-${region.code}-resilience`);
      expect(dashboards.map((d) => d.name)).toEqual([`mlp-${tier}-${region.code}-dr`]);
      const body = dashboards[0]?.body ?? '';
      for (const text of [
        '"type":"alarm"',
        'WriteGateOpen',
        'PrimaryLeaseStale',
        'PreflightReady',
        'ExecutionsStarted',
        'ExecutionsFailed',
      ])
        expect(body).toContain(text);
      // Every alarm of the widget is one of this region's.
      const resources = assembly.template(`Mlp-${tier}-${region.code}-resilience`).Resources;
      const alarmIds = [...body.matchAll(/\{"Fn::GetAtt":\["(\w+)","Arn"\]\}/g)].map((m) => m[1] as string);
      expect(alarmIds.length).toBeGreaterThan(10);
      expect(alarmIds.map((alarm) => resources[alarm]?.Type).filter((type) => !type?.startsWith('AWS::CloudWatch::'))).toEqual([]);
      expect(body).not.toContain('Fn::ImportValue');
      const lag = aurora ? 'AuroraGlobalDBRPOLag' : 'ReplicaLag';
      expect(body.includes(lag)).toBe(!region.isPrimary);
      if (!region.isPrimary) expect(body).toContain(`"value":${aurora ? 60000 : 60},"label":"RPO 60 s (seed 003)"`);
    },
  );

  test('the tier has one dashboard, in the global stack, reading each metric in its own region', () => {
    const all = assembly.stackNames.flatMap((stack) => dashboardsOf(stack).map((d) => ({ stack, ...d })));
    const tierDashboards = all.filter((d) => d.name === `mlp-${tier}-dr`);
    expect(tierDashboards.map((d) => d.stack)).toEqual([`Mlp-${tier}-global`]);
    const body = tierDashboards[0]?.body ?? '';
    for (const region of config.regions) {
      expect(body).toContain(`"region":"${region.name}"`);
      expect(body).toContain(`"${region.name} gate open"`);
      expect(body.includes(`"${region.name} lag"`)).toBe(!region.isPrimary);
      expect(body.includes(`"${region.name} ready"`)).toBe(!region.isPrimary);
    }
  });
});
