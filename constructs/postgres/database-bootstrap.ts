import { join } from 'node:path';
import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { type BootstrapStatement, bootstrapPlan } from '../../runbooks/core/database-bootstrap';
import { acknowledgeModuleIam, acknowledgeNist } from '../private/nag';
import { ValidationError } from '../private/validation-error';
import type { DatabaseBootstrapProperties } from './database-bootstrap/handler';
import { planSha256, toPlanProperty } from './database-bootstrap/plan';
import { POSTGRES_PORT } from './instance-support';
import type { IRegionalPostgres } from './regional-database';

/** The certificate bundle of the Lambda Node.js runtime that holds the Amazon (RDS) CAs; Node.js 20+ runtimes load it only when told. */
const LAMBDA_CA_BUNDLE = '/var/runtime/ca-cert.pem';

export interface DatabaseBootstrapProps {
  /** The primary to bootstrap: its endpoint is connected to, its security group admits the handler. */
  readonly database: IRegionalPostgres;
  /**
   * The RDS-managed master user secret of `database` (JSON with `username` and `password`), with its
   * `encryptionKey` when that key is customer managed, so the handler may decrypt it.
   */
  readonly masterSecret: secretsmanager.ISecret;
  /** The VPC of `database`. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the handler. They must reach Secrets Manager: through its interface endpoint (as
   * `PlatformVpc` creates one with private DNS) or NAT.
   * @default - the VPC's private (application) subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Encrypts the log group of the handler and the provider framework; its policy must admit
   * CloudWatch Logs of this region (`cloudWatchLogsKeyStatement` in constructs/private/kms.ts).
   */
  readonly logEncryptionKey: kms.IKey;
  /**
   * Retention of the log group.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The statements to run, in order; each must be idempotent.
   * @default bootstrapPlan() - the platform's roles and databases
   */
  readonly plan?: readonly BootstrapStatement[];
}

/**
 * Creates the platform's PostgreSQL roles and databases at deploy time: a custom resource runs the
 * bootstrap plan (runbooks/core/database-bootstrap.ts) against the primary as its master user, on
 * Create and on Update, so nothing about the platform's databases is left to a person. The plan is
 * idempotent and a deploy never lifts a fence (an existing role keeps its LOGIN or NOLOGIN);
 * CloudFormation runs it again whenever the plan changes (`PlanSha256`, with the plan itself in the
 * template, so a template diff shows the SQL that will run). Delete does nothing: the roles and
 * databases live in the instance, which is retained.
 *
 * The handler is a function in the VPC (private subnets by default) whose security group reaches
 * the database's port and nothing else but HTTPS inside the VPC (the Secrets Manager endpoint). It
 * reads the master secret (`secretsmanager:GetSecretValue` on that secret, `kms:Decrypt` on its
 * key through Secrets Manager only) and connects over TLS, verifying the server against the RDS
 * certificate authorities of the Lambda runtime.
 *
 * Only the primary is bootstrapped: replicas (in-region and cross-region) receive roles and
 * databases by physical replication, and are read-only. After a failover, the promoted replica
 * already holds every role and database its source had, fence state included. The data stack of
 * the new primary's region creates this construct only when that instance has an RDS-managed master
 * secret (it then re-runs harmlessly); a promoted cross-region replica has none, so its stack
 * creates no bootstrap and says so at every synthesis (an info message naming the instance): a plan changed
 * after that failover is not applied there until the instance manages its master password in
 * Secrets Manager or a later generation created as a primary takes over.
 */
export class DatabaseBootstrap extends Construct {
  /** The custom resource; `getAttString('Created')` lists the roles and databases its last run created. */
  public readonly resource: CustomResource;
  /** The onEvent handler, in the VPC. */
  public readonly handler: nodejs.NodejsFunction;
  /** The handler's security group: PostgreSQL to the database, HTTPS inside the VPC. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** SHA-256 of the plan that this deployment runs. */
  public readonly planSha256: string;

  constructor(scope: Construct, id: string, props: DatabaseBootstrapProps) {
    super(scope, id);
    const plan = props.plan ?? bootstrapPlan();
    if (plan.length === 0) throw new ValidationError('plan must hold at least one statement, got none', this);
    this.planSha256 = planSha256(plan);
    const stack = Stack.of(this);
    const database = props.database;

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Bootstrap of ${database.databaseIdentifier}: PostgreSQL to it, HTTPS to AWS API endpoints in the VPC`,
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(
      ec2.Peer.securityGroupId(database.securityGroup.securityGroupId),
      ec2.Port.tcp(POSTGRES_PORT),
      `PostgreSQL to ${database.databaseIdentifier}`,
    );
    this.securityGroup.addEgressRule(
      ec2.Peer.ipv4(props.vpc.vpcCidrBlock),
      ec2.Port.tcp(443),
      'HTTPS to the Secrets Manager interface endpoint in the VPC',
    );
    // Admitted by group, whatever subnets the handler is in (the database admits the client CIDRs only).
    const ingress = new ec2.CfnSecurityGroupIngress(this, 'DatabaseIngress', {
      groupId: database.securityGroup.securityGroupId,
      sourceSecurityGroupId: this.securityGroup.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: POSTGRES_PORT,
      toPort: POSTGRES_PORT,
      description: `PostgreSQL from the bootstrap of ${database.databaseIdentifier}`,
    });

    const role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Bootstraps the roles and databases of ${database.databaseIdentifier}`,
    });
    // Lambda creates the network interfaces of a function in a VPC with its role (Lambda Developer Guide, VPC access).
    role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason:
        'AWS-maintained policy with only the network-interface (and log) permissions Lambda needs to place the function in the VPC, where the database is.',
    });
    logGroup.grantWrite(role);
    role.addToPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [props.masterSecret.secretArn] }));
    const secretKey = props.masterSecret.encryptionKey;
    if (secretKey) {
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [secretKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` } },
        }),
      );
    }

    this.handler = new nodejs.NodejsFunction(this, 'OnEvent', {
      entry: join(import.meta.dirname, 'database-bootstrap', 'handler.ts'),
      handler: 'onEvent',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(5),
      role,
      logGroup,
      description: `Bootstraps the roles and databases of ${database.databaseIdentifier}`,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
      environment: { NODE_EXTRA_CA_CERTS: LAMBDA_CA_BUNDLE },
      // pg is bundled (pg-native, its optional native binding, is not used); the runtime provides the AWS SDK.
      bundling: { minify: true, target: 'node24', externalModules: ['@aws-sdk/*', 'pg-native'] },
    });
    acknowledgeNist(
      this.handler,
      'LambdaConcurrency',
      'A custom resource handler: it runs only while CloudFormation deploys this stack, once per deployment that changes the plan.',
    );
    acknowledgeNist(
      this.handler,
      'LambdaDLQ',
      'Invoked synchronously by the provider framework, which returns every error to CloudFormation and fails the deployment; a DLQ only receives failed asynchronous invocations.',
    );

    const provider = new cr.Provider(this, 'Provider', { onEventHandler: this.handler, logGroup });
    acknowledgeModuleIam(
      provider,
      'The custom resource provider framework of aws-cdk-lib: its function may invoke only this construct’s handler (and its versions), and write its logs.',
    );
    const properties: Omit<DatabaseBootstrapProperties, 'Plan'> & { Plan: unknown } = {
      Host: database.endpointAddress,
      Port: database.endpointPort,
      MasterSecretArn: props.masterSecret.secretArn,
      PlanSha256: this.planSha256,
      Plan: toPlanProperty(plan),
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::PostgresBootstrap',
      properties,
    });
    // The rule that lets the handler in must exist before the handler runs.
    this.resource.node.addDependency(ingress);
  }
}
