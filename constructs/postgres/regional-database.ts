import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as rds from 'aws-cdk-lib/aws-rds';
import { Construct, type IConstruct } from 'constructs';

/**
 * A region's PostgreSQL instance, whatever its role: the primary created in the home region, or a
 * cross-region replica (promoted or not). Stacks and the compute wiring work against this, so they
 * never branch on which construct a region holds.
 */
export interface IRegionalDatabase extends IConstruct {
  /** Physical identifier, e.g. `mlp-tier1-pg-usw2`. */
  readonly instanceIdentifier: string;
  readonly instanceArn: string;
  /** `host:port` clients connect to. */
  readonly endpoint: string;
  /** The `db-...` resource id that IAM database authentication names. */
  readonly dbiResourceId: string;
  /** Admits the region's clients on the PostgreSQL port. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The instance as an aws-rds instance, e.g. as the source of in-region read replicas or a proxy target. */
  readonly instance: rds.IDatabaseInstance;
  /** Subnets of the instance, which its in-region read replicas share. */
  readonly subnetGroup: rds.ISubnetGroup;
  /** Server parameters of the instance, which its in-region read replicas share. */
  readonly parameterGroup: rds.IParameterGroup;
  /** Role Enhanced Monitoring publishes with. */
  readonly monitoringRole: iam.IRole;

  /** Allow `grantee` to connect with IAM authentication as `databaseUser`. */
  grantConnect(grantee: iam.IGrantable, databaseUser: string): iam.Grant;
}

/** Grants shared by every kind of regional database. */
export abstract class RegionalDatabaseBase extends Construct implements IRegionalDatabase {
  public abstract readonly instanceIdentifier: string;
  public abstract readonly instanceArn: string;
  public abstract readonly endpoint: string;
  public abstract readonly dbiResourceId: string;
  public abstract readonly securityGroup: ec2.ISecurityGroup;
  public abstract readonly instance: rds.IDatabaseInstance;
  public abstract readonly subnetGroup: rds.ISubnetGroup;
  public abstract readonly parameterGroup: rds.IParameterGroup;
  public abstract readonly monitoringRole: iam.IRole;

  public grantConnect(grantee: iam.IGrantable, databaseUser: string): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['rds-db:connect'],
      resourceArns: [databaseUserArn(this, this.dbiResourceId, databaseUser)],
    });
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
