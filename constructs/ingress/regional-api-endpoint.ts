import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { pascalCase } from '../private/ids';
import { acknowledgeNist } from '../private/nag';
import { ValidationError } from '../private/validation-error';

/** A service reachable through the endpoint by its own host name. */
export interface RoutedService {
  /** Fully qualified host name clients use, e.g. `tracking.ml.example.com`. */
  readonly host: string;
  /** Port the pods listen on. */
  readonly port: number;
  /** Path the load balancer health-checks the pods on. */
  readonly healthCheckPath: string;
}

export interface RegionalApiEndpointProps {
  readonly vpc: ec2.IVpc;
  /** The public hosted zone of the platform domain. */
  readonly hostedZone: route53.IHostedZone;
  /** The region's API name, e.g. `api.use1.ml.example.com`; it answers `/health`. */
  readonly apiHost: string;
  /** Services by name; each gets a target group and a host-header rule. */
  readonly services: Readonly<Record<string, RoutedService>>;
  /** The service whose health `https://<apiHost>/health` reports (the region's control plane). */
  readonly healthService: string;
}

/**
 * The region's public entry point: an internet-facing ALB with TLS 1.2+ only, HTTP redirected to
 * HTTPS, one IP target group per service (pods are registered by the AWS Load Balancer Controller's
 * TargetGroupBinding), host-header routing, access logs, and `api.<code>.<domain>` pointing at it.
 */
export class RegionalApiEndpoint extends Construct {
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly targetGroups: Record<string, elbv2.ApplicationTargetGroup> = {};
  public readonly certificate: acm.Certificate;
  private readonly httpsListener: elbv2.ApplicationListener;
  private readonly apiHost: string;
  private functionRoutes = 0;

  constructor(scope: Construct, id: string, props: RegionalApiEndpointProps) {
    super(scope, id);
    const names = Object.keys(props.services);
    if (names.length === 0) throw new ValidationError('services must list at least one service', this);
    if (!props.services[props.healthService]) {
      throw new ValidationError(`healthService ${props.healthService} is not one of the services: ${names.join(', ')}`, this);
    }
    const hosts = Object.values(props.services).map((s) => s.host);
    if (new Set(hosts).size !== hosts.length) throw new ValidationError(`two services share a host: ${hosts.join(', ')}`, this);

    this.certificate = new acm.Certificate(this, 'Certificate', {
      domainName: props.apiHost,
      subjectAlternativeNames: hosts,
      validation: acm.CertificateValidation.fromDns(props.hostedZone),
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Load balancer of ${props.apiHost}`,
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from the internet');
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP from the internet, redirected to HTTPS');
    for (const port of new Set(Object.values(props.services).map((s) => s.port))) {
      this.securityGroup.addEgressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(port), `pods on ${port}`);
    }
    Validations.of(this.securityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'A public API endpoint: HTTPS (and HTTP, only to redirect) must be open to every client address.',
    });

    const logs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED, // ALB log delivery writes SSE-S3 only
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the load balancer access logs; logging its own access would only log the log delivery.',
    });
    acknowledgeNist(
      logs,
      'S3BucketLoggingEnabled',
      'This bucket receives the load balancer access logs; logging its own access would only log the log delivery.',
    );
    acknowledgeNist(
      logs,
      'S3DefaultEncryptionKMS',
      'Elastic Load Balancing delivers access logs only to buckets encrypted with SSE-S3; SSE-KMS is not supported for them.',
    );
    acknowledgeNist(
      logs,
      'S3BucketReplicationEnabled',
      "Access logs of this region's load balancer, read in this region; a copy elsewhere would add nothing a region loss takes from recovery.",
    );

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: this.securityGroup,
      dropInvalidHeaderFields: true,
      deletionProtection: true,
    });
    this.loadBalancer.logAccessLogs(logs);

    const http = this.loadBalancer.addListener('Http', {
      port: 80,
      open: false,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
    });
    acknowledgeNist(
      http,
      'ELBv2ACMCertificateRequired',
      'The HTTP listener only answers with a permanent redirect to HTTPS; it serves no content, and the HTTPS listener uses the ACM certificate.',
    );
    this.apiHost = props.apiHost;
    const https = this.loadBalancer.addListener('Https', {
      port: 443,
      open: false,
      certificates: [this.certificate],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      defaultAction: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'unknown host' }),
    });

    for (const [index, [name, service]] of Object.entries(props.services).entries()) {
      const group = new elbv2.ApplicationTargetGroup(this, `${pascalCase(name)}Targets`, {
        vpc: props.vpc,
        targetType: elbv2.TargetType.IP,
        protocol: elbv2.ApplicationProtocol.HTTP,
        port: service.port,
        deregistrationDelay: Duration.seconds(30),
        healthCheck: { path: service.healthCheckPath, healthyThresholdCount: 2, unhealthyThresholdCount: 3 },
      });
      this.targetGroups[name] = group;
      https.addAction(`${pascalCase(name)}Host`, {
        priority: 10 + index * 10,
        conditions: [elbv2.ListenerCondition.hostHeaders([service.host])],
        action: elbv2.ListenerAction.forward([group]),
      });
    }
    https.addAction('RegionHealth', {
      priority: 1,
      conditions: [elbv2.ListenerCondition.hostHeaders([props.apiHost]), elbv2.ListenerCondition.pathPatterns(['/health'])],
      action: elbv2.ListenerAction.forward([this.targetGroups[props.healthService] as elbv2.ApplicationTargetGroup]),
    });
    this.httpsListener = https;

    new route53.ARecord(this, 'ApiRecord', {
      zone: props.hostedZone,
      recordName: props.apiHost,
      target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(this.loadBalancer)),
    });
  }

  /**
   * Answer `https://<apiHost><path>` with `handler` (a Lambda target), ahead of every service: the
   * region's write-gate endpoint, which Route 53 probes. Its health is the function's own answer, so
   * the target group's health check is off (ELB User Guide: a Lambda target group's health checks
   * are disabled by default).
   */
  serveFromFunction(id: string, path: string, handler: lambda.IFunction): elbv2.ApplicationTargetGroup {
    if (!/^\/[a-z0-9-]+$/.test(path)) throw new ValidationError(`path must be one lowercase segment like /write-gate, got ${path}`, this);
    // Between the region's health rule (1) and the services' host rules (10 and up).
    const priority = 2 + this.functionRoutes;
    if (priority >= 10) throw new ValidationError('at most 8 paths can be served from functions', this);
    this.functionRoutes++;
    // Elastic Load Balancing invokes it for this account's load balancers only (aws-cdk-lib's LambdaTarget
    // grants the service principal with no condition: any account's target group could name it).
    const permission = new lambda.CfnPermission(this, `${id}Invoke`, {
      action: 'lambda:InvokeFunction',
      functionName: handler.functionArn,
      principal: 'elasticloadbalancing.amazonaws.com',
      sourceAccount: Stack.of(this).account,
    });
    const group = new elbv2.ApplicationTargetGroup(this, `${id}Target`, {
      targetType: elbv2.TargetType.LAMBDA,
      targets: [
        {
          attachToApplicationTargetGroup: () => ({ targetType: elbv2.TargetType.LAMBDA, targetJson: { id: handler.functionArn } }),
        },
      ],
    });
    // Elastic Load Balancing checks the permission when it registers the function.
    group.node.addDependency(permission);
    this.httpsListener.addAction(id, {
      priority,
      conditions: [elbv2.ListenerCondition.hostHeaders([this.apiHost]), elbv2.ListenerCondition.pathPatterns([path])],
      action: elbv2.ListenerAction.forward([group]),
    });
    return group;
  }
}
