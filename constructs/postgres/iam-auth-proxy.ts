import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { clientSecurityGroup, type DataStoreNetworkProps } from '../network/data-store-network';
import { acknowledgeWildcardResource } from '../private/nag';
import { PublishedValue } from '../private/published-value';
import { POSTGRES_PORT } from './instance-support';
import { databaseUserArn } from './regional-database';

export interface IamAuthProxyProps extends DataStoreNetworkProps {
  /** Proxy name; the database's identifier, so the two are found together. */
  readonly name: string;
  /** The instance or cluster behind the proxy. */
  readonly target: rds.ProxyTarget;
  /** Resource id (`db-...` or `cluster-...`) of the target, which the proxy's own IAM logins name. */
  readonly targetResourceId: string;
  readonly vpcSubnets: ec2.SubnetSelection;
}

/** An RDS Proxy and the grant of connections through it. */
export interface IamAuthProxy {
  readonly proxy: rds.DatabaseProxy;
  /** Allow `grantee` to connect as `databaseUser` through the proxy. */
  grantConnect(grantee: iam.IGrantable, databaseUser: string): iam.Grant;
}

/**
 * RDS Proxy (the seeds' PgBouncer) with end-to-end IAM authentication: clients present an IAM token
 * to the proxy, and the proxy connects to PostgreSQL with an IAM token of its own role, so no
 * database password is stored. Its parts are created directly in `scope` (ids `Proxy*`), so callers
 * keep their logical ids.
 */
export function addIamAuthProxy(scope: Construct, props: IamAuthProxyProps): IamAuthProxy {
  const securityGroup = clientSecurityGroup(scope, 'ProxySecurityGroup', {
    ...props,
    description: `RDS Proxy of ${props.name}`,
    port: POSTGRES_PORT,
    protocol: 'PostgreSQL',
  });
  const role = new iam.Role(scope, 'ProxyRole', {
    assumedBy: new iam.ServicePrincipal('rds.amazonaws.com'),
    description: `RDS Proxy of ${props.name}: connects to the database with IAM tokens`,
  });
  const anyDatabaseUser = databaseUserArn(scope, props.targetResourceId, '*');
  role.addToPolicy(new iam.PolicyStatement({ actions: ['rds-db:connect'], resources: [anyDatabaseUser] }));
  acknowledgeWildcardResource(
    role,
    anyDatabaseUser,
    'With end-to-end IAM auth the proxy connects as the user each client authenticated as, so it may connect as any user of this one database; which clients may use which user is decided by their own rds-db:connect grants on the proxy.',
  );
  const proxy = new rds.DatabaseProxy(scope, 'Proxy', {
    proxyTarget: props.target,
    dbProxyName: props.name,
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets,
    securityGroups: [securityGroup],
    role,
    defaultAuthScheme: rds.DefaultAuthScheme.IAM_AUTH,
    iamAuth: true,
    requireTLS: true,
    idleClientTimeout: Duration.minutes(30),
    maxConnectionsPercent: 90,
    borrowTimeout: Duration.seconds(30),
  });
  const proxyResourceId = new PublishedValue(
    scope,
    'ProxyResourceId',
    Stack.of(scope).splitArn(proxy.dbProxyArn, ArnFormat.COLON_RESOURCE_NAME).resourceName as string,
    `Resource id of the RDS Proxy ${props.name}, which rds-db:connect grants through it name`,
  );
  return {
    proxy,
    grantConnect: (grantee, databaseUser) => {
      const proxyId = proxyResourceId.valueFor(Construct.isConstruct(grantee) ? grantee : scope);
      return iam.Grant.addToPrincipal({
        grantee,
        actions: ['rds-db:connect'],
        resourceArns: [databaseUserArn(scope, proxyId, databaseUser)],
      });
    },
  };
}
