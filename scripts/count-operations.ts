/**
 * Counts what a synthesized deployment gives its operators, per region: alarms that page and those
 * that only feed a composite, composite alarms, dashboards, schedules, FIS experiment templates,
 * paging topics and on-call roles. Reads a cloud assembly (`cdk synth -o <dir>`), so it counts what
 * would be deployed, for any tier and regions.
 *
 *   MLP_SKIP_BUNDLING=1 npx cdk synth -q -c tier=tier3 -c regions=us-east-1,us-west-2,eu-west-1 -o /tmp/synth
 *   npm run count:operations -- /tmp/synth
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

interface Counts {
  paging: number;
  causes: number;
  composites: number;
  dashboards: number;
  schedules: number;
  experimentTemplates: number;
  pagingTopics: number;
  onCallRoles: number;
}

const dir = process.argv[2];
if (!dir || !existsSync(join(dir, 'manifest.json'))) {
  console.error(`usage: npm run count:operations -- <cloud assembly directory>; got ${dir ?? 'nothing'}, which holds no manifest.json`);
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
  artifacts: Record<string, { type: string; environment?: string; properties?: { templateFile?: string } }>;
};
const byRegion = new Map<string, Counts>();
for (const [name, artifact] of Object.entries(manifest.artifacts)) {
  if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
  const region = name.endsWith('-global') ? 'global (us-east-1)' : (artifact.environment?.split('/').pop() ?? '?');
  const counts = byRegion.get(region) ?? {
    paging: 0,
    causes: 0,
    composites: 0,
    dashboards: 0,
    schedules: 0,
    experimentTemplates: 0,
    pagingTopics: 0,
    onCallRoles: 0,
  };
  byRegion.set(region, counts);
  const template = JSON.parse(readFileSync(join(dir, artifact.properties.templateFile), 'utf8')) as {
    Resources?: Record<string, Resource>;
  };
  for (const resource of Object.values(template.Resources ?? {})) {
    const p = resource.Properties ?? {};
    const acts = ((p.AlarmActions as unknown[] | undefined) ?? []).length > 0;
    switch (resource.Type) {
      case 'AWS::CloudWatch::Alarm':
        if (acts) counts.paging++;
        else counts.causes++;
        break;
      case 'AWS::CloudWatch::CompositeAlarm':
        counts.composites++;
        if (acts) counts.paging++;
        break;
      case 'AWS::CloudWatch::Dashboard':
        counts.dashboards++;
        break;
      case 'AWS::Scheduler::Schedule':
        counts.schedules++;
        break;
      case 'AWS::FIS::ExperimentTemplate':
        counts.experimentTemplates++;
        break;
      case 'AWS::SNS::Topic':
        if (String(p.TopicName ?? '').endsWith('-paging')) counts.pagingTopics++;
        break;
      case 'AWS::IAM::Role':
        if (String(p.RoleName ?? '').endsWith('-on-call')) counts.onCallRoles++;
        break;
    }
  }
}

const columns: [keyof Counts, string][] = [
  ['paging', 'alarms that page (composites included)'],
  ['causes', 'alarms feeding a composite'],
  ['composites', 'composite alarms'],
  ['dashboards', 'dashboards'],
  ['schedules', 'schedules'],
  ['experimentTemplates', 'FIS templates'],
  ['pagingTopics', 'paging topics'],
  ['onCallRoles', 'on-call roles'],
];
const rows = [...byRegion.entries()].sort(([a], [b]) => a.localeCompare(b));
const total = Object.fromEntries(columns.map(([key]) => [key, rows.reduce((sum, [, c]) => sum + c[key], 0)])) as unknown as Counts;
console.log(`| region | ${columns.map(([, title]) => title).join(' | ')} |`);
console.log(`| --- |${columns.map(() => ' ---: |').join('')}`);
for (const [region, counts] of [...rows, ['total', total] as const]) {
  console.log(`| ${region} | ${columns.map(([key]) => counts[key]).join(' | ')} |`);
}
