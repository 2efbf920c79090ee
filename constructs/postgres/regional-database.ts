import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as rds from 'aws-cdk-lib/aws-rds';
import { Construct, type IConstruct } from 'constructs';
import type { RunbookParameters } from '../../lib/config';

/**
 * What clients, the bootstrap and the runbooks need of a region's PostgreSQL, whichever engine
 * serves it: an RDS instance (`IRegionalDatabase`) or an Aurora cluster of a global database.
 */
export interface IRegionalPostgres extends IConstruct {
  /** The instance or cluster identifier, e.g. `mlp-tier1-pg-usw2`. */
  readonly databaseIdentifier: string;
  readonly databaseArn: string;
  /** Host name of the writer (of an Aurora secondary: its cluster endpoint, which serves once promoted). */
  readonly endpointAddress: string;
  readonly endpointPort: string;
  /** `host:port` clients connect to. */
  readonly endpoint: string;
  /** The resource id (`db-...` or `cluster-...`) that IAM database authentication names. */
  readonly resourceId: string;
  /** Admits the region's clients on the PostgreSQL port. */
  readonly securityGroup: ec2.ISecurityGroup;

  /** Allow `grantee` to connect with IAM authentication as `databaseUser`. */
  grantConnect(grantee: iam.IGrantable, databaseUser: string): iam.Grant;
}

/** What a region's clients are granted on its PostgreSQL, whichever engine and lineage serve it. */
export interface IPostgresClientAccess {
  /** Allow `grantee` to connect with IAM authentication as `databaseUser`, directly and through the pooler when there is one. */
  grantClientConnect(grantee: iam.IGrantable, databaseUser: string): iam.Grant;
}

/**
 * A region's part of the platform's PostgreSQL as its data stack holds it, whichever engine: the
 * database clients use now, what stands beside it, and the runbook parameters that describe it.
 */
export interface IDatabaseRegion extends IPostgresClientAccess {
  /** The region's current database, of whatever role and engine. */
  readonly current: IRegionalPostgres;
  /** Older RDS generations of the region's database, retained until retired; none with Aurora. */
  readonly retained: readonly IRegionalPostgres[];
  /** The platform's roles and databases, created at deploy time, where this region runs the bootstrap. */
  readonly bootstrap?: IConstruct;
  /** The `postgres` runbook parameters of the region, for its stack to publish. */
  readonly runbookParameters: RunbookParameters<'postgres'>;
}

/**
 * A region's RDS PostgreSQL instance, whatever its role: the primary created in the home region, or a
 * cross-region replica (promoted or not). Stacks and the compute wiring work against this, so they
 * never branch on which construct a region holds.
 */
export interface IRegionalDatabase extends IRegionalPostgres {
  /** Physical identifier, e.g. `mlp-tier1-pg-usw2`. */
  readonly instanceIdentifier: string;
  readonly instanceArn: string;
  /** The `db-...` resource id that IAM database authentication names. */
  readonly dbiResourceId: string;
  /** The instance as an aws-rds instance, e.g. as the source of in-region read replicas or a proxy target. */
  readonly instance: rds.IDatabaseInstance;
  /** Subnets of the instance, which its in-region read replicas share. */
  readonly subnetGroup: rds.ISubnetGroup;
  /** Server parameters of the instance, which its in-region read replicas share. */
  readonly parameterGroup: rds.IParameterGroup;
  /** Role Enhanced Monitoring publishes with. */
  readonly monitoringRole: iam.IRole;
}

/** The grant every regional PostgreSQL shares: IAM database authentication on its resource id. */
export abstract class RegionalPostgresBase extends Construct implements IRegionalPostgres {
  public abstract readonly databaseIdentifier: string;
  public abstract readonly databaseArn: string;
  public abstract readonly endpointAddress: string;
  public abstract readonly endpointPort: string;
  public abstract readonly endpoint: string;
  public abstract readonly resourceId: string;
  public abstract readonly securityGroup: ec2.ISecurityGroup;

  public grantConnect(grantee: iam.IGrantable, databaseUser: string): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['rds-db:connect'],
      resourceArns: [databaseUserArn(this, this.resourceId, databaseUser)],
    });
  }
}

/** What every kind of regional RDS instance shares. */
export abstract class RegionalDatabaseBase extends RegionalPostgresBase implements IRegionalDatabase {
  public abstract readonly instanceIdentifier: string;
  public abstract readonly instanceArn: string;
  public abstract readonly dbiResourceId: string;
  public abstract readonly instance: rds.IDatabaseInstance;
  public abstract readonly subnetGroup: rds.ISubnetGroup;
  public abstract readonly parameterGroup: rds.IParameterGroup;
  public abstract readonly monitoringRole: iam.IRole;

  public get databaseIdentifier(): string {
    return this.instanceIdentifier;
  }
  public get databaseArn(): string {
    return this.instanceArn;
  }
  public get resourceId(): string {
    return this.dbiResourceId;
  }
  public get endpointAddress(): string {
    return this.instance.dbInstanceEndpointAddress;
  }
  public get endpointPort(): string {
    return this.instance.dbInstanceEndpointPort;
  }
}

/** `arn:<partition>:rds-db:<region>:<account>:dbuser:<resource id>/<user>`. */
export function databaseUserArn(scope: IConstruct, resourceId: string, databaseUser: string): string {
  return Stack.of(scope).formatArn({
    service: 'rds-db',
    resource: 'dbuser',
    resourceName: `${resourceId}/${databaseUser}`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}
