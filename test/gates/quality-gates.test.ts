import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, test } from 'vitest';
import { AcknowledgementAudit } from '../../lib/acknowledgement-audit';
import { CdkProvidedAcknowledgements, NIST } from '../../lib/aspects';
import { addQualityGates } from '../../lib/quality-gates';
import { LayoutAssembly } from '../support/assembly';
import { LAYOUTS } from '../support/layouts';
import { cdkJsonContext } from '../support/synth';

interface Violation {
  ruleName: string;
  description: string;
  violatingConstructs: { constructPath: string }[];
  reason?: string;
  acknowledgedId?: string;
}
interface PluginReport {
  pluginName: string;
  conclusion: string;
  violations: Violation[];
  suppressedViolations?: Violation[];
}

describe.each(LAYOUTS)('quality gates: $id', ({ id }) => {
  const assembly = LayoutAssembly.of(id);
  const reports = assembly.validationReport().pluginReports as PluginReport[];

  // cdk-nag only writes a report when it has findings; the probes below prove it runs through
  // the same addQualityGates() call this layout used.
  test('the built-in CloudFormation validation ran', () => {
    expect(reports.map((r) => r.pluginName)).toContain('CloudFormation Validate');
  });

  test('no unacknowledged finding of any severity', () => {
    const open = reports.flatMap((r) =>
      r.violations.map(
        (v) => `${r.pluginName} ${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}: ${v.description}`,
      ),
    );
    expect(open).toEqual([]);
  });

  test('every acknowledgement carries a specific reason', () => {
    const acknowledged = reports.flatMap((r) => r.suppressedViolations ?? []);
    const vague = acknowledged.filter((v) => (v.reason ?? '').trim().length < 40);
    expect(vague.map((v) => `${v.acknowledgedId}: "${v.reason}"`)).toEqual([]);
  });

  test('no construct reported an error', () => {
    expect(assembly.metadataOfType('aws:cdk:error')).toEqual([]);
  });
});

describe('the gates catch what they are for', () => {
  function synthWithGates(build: (stack: Stack) => void): () => void {
    const app = new App({ context: cdkJsonContext() });
    const stack = new Stack(app, 'Probe', { env: { account: '111122223333', region: 'us-east-1' } });
    build(stack);
    addQualityGates(app);
    return () => app.synth();
  }

  test('cdk-nag AwsSolutions fails synthesis on an unencrypted, non-TLS bucket', () => {
    const synth = synthWithGates((stack) => {
      new s3.Bucket(stack, 'Plain', { removalPolicy: RemovalPolicy.RETAIN });
    });
    expect(synth).toThrow(/AwsSolutions-S10/);
  });

  test('cdk-nag NIST 800-53 rev 5 fails synthesis on a log group without a KMS key', () => {
    const synth = synthWithGates((stack) => {
      new logs.LogGroup(stack, 'Plain', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    });
    expect(synth).toThrow(/NIST\.800\.53\.R5-CloudWatchLogGroupEncrypted/);
  });

  test("the class acknowledgement covers a role's grant policy but not a hand-made inline policy", () => {
    const synth = synthWithGates((stack) => {
      const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      role.addToPolicy(
        new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [stack.formatArn({ service: 'sqs', resource: 'q' })] }),
      );
      new iam.Policy(stack, 'HandMade', {
        roles: [role],
        statements: [
          new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [stack.formatArn({ service: 'sns', resource: 't' })] }),
        ],
      });
    });
    expect(synth).toThrow(/Probe\/HandMade\/Resource[\s\S]*NIST\.800\.53\.R5-IAMNoInlinePolicy/);
    expect(synth).not.toThrow(/Probe\/Role\/DefaultPolicy/);
  });

  describe('the acknowledgement audit', () => {
    const managedPolicyFinding = (name: string) => `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${name}]`;
    const REASON = 'A probe of the acknowledgement audit: the reason is long enough to be specific.';

    /** A role whose only finding is AwsSolutions-IAM4 for the basic execution policy, with `ids` acknowledged on `on(role)`. */
    function roleWithAcknowledgements(ids: string[], on: (role: iam.Role) => IConstruct = (role) => role): () => void {
      return synthWithGates((stack) => {
        const role = new iam.Role(stack, 'Role', {
          assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
          managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
        });
        for (const id of ids) Validations.of(on(role)).acknowledge({ id, reason: REASON });
      });
    }

    test('an acknowledgement that matches a finding passes', () => {
      expect(roleWithAcknowledgements([managedPolicyFinding('AWSLambdaBasicExecutionRole')])).not.toThrow();
    });

    test('an acknowledgement on a scope above the finding passes, as cdk-nag matches it there', () => {
      expect(roleWithAcknowledgements([managedPolicyFinding('AWSLambdaBasicExecutionRole')], (role) => Stack.of(role))).not.toThrow();
    });

    test('an acknowledgement that matches no finding fails synthesis, naming its construct and id', () => {
      // A policy the role does not have: the statement that it is attached is false.
      const synth = roleWithAcknowledgements([
        managedPolicyFinding('AWSLambdaBasicExecutionRole'),
        managedPolicyFinding('AWSLambdaVPCAccessExecutionRole'),
      ]);
      expect(synth).toThrow(
        'The acknowledgement of AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole] ' +
          'on Probe/Role matches no finding',
      );
      expect(synth).not.toThrow(/AWSLambdaBasicExecutionRole\] on Probe\/Role matches no finding/);
    });

    test.each([
      [
        'a rule of a gated pack that has no finding there',
        'NIST.800.53.R5-IAMNoInlinePolicy',
        'no NIST.800.53.R5-IAMNoInlinePolicy finding fires on Probe/Role or below it',
      ],
      ['a rule of a cdk-nag pack that does not run', 'HIPAA.Security-IAMNoInlinePolicy', 'the HIPAA.Security pack does not run'],
    ])('%s is reported', (_, id, why) => {
      const synth = roleWithAcknowledgements([managedPolicyFinding('AWSLambdaBasicExecutionRole'), id]);
      expect(synth).toThrow(`The acknowledgement of ${id} on Probe/Role matches no finding: ${why}.`);
    });

    test('without a completed run of every pack it watches, the audit refuses to judge', () => {
      const app = new App();
      const audit = new AcknowledgementAudit();
      audit.watch(new AwsSolutionsChecks());
      expect(() => audit.validate({ appConstruct: app, templatePaths: [], stackTemplates: [] })).toThrow(
        'the acknowledgements cannot be audited: the AwsSolutions pack(s) did not complete a run before the audit',
      );
    });

    test('an acknowledgement of something other than a cdk-nag rule is not its business', () => {
      const synth = roleWithAcknowledgements([managedPolicyFinding('AWSLambdaBasicExecutionRole'), 'CloudFormation-Validate::W3010']);
      expect(synth).not.toThrow();
    });
  });

  test('the class acknowledgements go only where their rule has a finding: none of LambdaInsideVPC on a provider in a VPC', () => {
    // GIVEN
    const stack = new Stack(new App(), 'Probe', { env: { account: '111122223333', region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc');
    const onEventHandler = new lambda.Function(stack, 'OnEvent', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    const inside = new cr.Provider(stack, 'Inside', { onEventHandler, vpc });
    const outside = new cr.Provider(stack, 'Outside', { onEventHandler });
    const frameworkFunction = (provider: cr.Provider) =>
      provider.node.findAll().find((c): c is lambda.CfnFunction => c instanceof lambda.CfnFunction) as lambda.CfnFunction;

    // WHEN
    const aspect = new CdkProvidedAcknowledgements();
    for (const provider of [inside, outside]) aspect.visit(frameworkFunction(provider));

    // THEN
    const acknowledged = (provider: cr.Provider) =>
      frameworkFunction(provider)
        .node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.keys(entry.data as object).map((key) => key.replace(/^annotation::/i, '')))
        .sort();
    expect(acknowledged(inside)).toEqual([NIST.lambdaConcurrency, NIST.lambdaDlq].sort());
    expect(acknowledged(outside)).toEqual([NIST.lambdaConcurrency, NIST.lambdaDlq, NIST.lambdaInsideVpc].sort());
  });

  test('the built-in validation fails synthesis on an invalid property value', () => {
    const synth = synthWithGates((stack) => {
      const bucket = new s3.CfnBucket(stack, 'Broken');
      bucket.addPropertyOverride('VersioningConfiguration', { Status: 'Sometimes' });
      bucket.applyRemovalPolicy(RemovalPolicy.RETAIN);
    });
    expect(synth).toThrow(/Sometimes/);
  });

  test('the stateful-resource guard fails synthesis on a bucket that would be deleted', () => {
    const synth = synthWithGates((stack) => {
      new s3.CfnBucket(stack, 'Doomed').applyRemovalPolicy(RemovalPolicy.DESTROY);
    });
    expect(synth).toThrow(/AWS::S3::Bucket must have DeletionPolicy Retain or Snapshot, has Delete/);
  });

  test('the stateful-resource guard fails synthesis on a retained database without deletion protection', () => {
    const synth = synthWithGates((stack) => {
      new rds.CfnDBInstance(stack, 'Unprotected', { dbInstanceClass: 'db.m7g.large', engine: 'postgres' }).applyRemovalPolicy(
        RemovalPolicy.RETAIN,
      );
    });
    expect(synth).toThrow(/AWS::RDS::DBInstance must set DeletionProtection: true/);
  });
});
