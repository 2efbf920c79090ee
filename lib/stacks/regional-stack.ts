import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { pascalCase } from '../../constructs/private/ids';
import {
  type PlatformConfig,
  type RegionalLayer,
  type RegionPlan,
  type RunbookParameterComponent,
  type RunbookParameterKey,
  type RunbookParameters,
  regionalStackName,
  runbookParameterName,
} from '../config';

export interface RegionalStackProps extends Omit<StackProps, 'env' | 'stackName'> {
  readonly config: PlatformConfig;
  readonly region: RegionPlan;
}

/**
 * Base of every per-region stack: explicit account and region, the `Mlp-<tier>-<code>-<layer>` name,
 * the platform tags, and fixed availability zones so nothing triggers a context lookup.
 */
export abstract class RegionalStack extends Stack {
  public readonly config: PlatformConfig;
  public readonly regionPlan: RegionPlan;

  protected constructor(scope: Construct, layer: RegionalLayer, props: RegionalStackProps) {
    const name = regionalStackName(props.config.tier.name, props.region.code, layer);
    super(scope, name, {
      ...props,
      stackName: name,
      env: { account: props.config.account, region: props.region.name },
      // Stack tags: CloudFormation propagates them to every resource that supports tags.
      tags: {
        'mlp:tier': props.config.tier.name,
        'mlp:region': props.region.name,
        'mlp:region-role': layer === 'witness' ? 'witness' : props.region.isPrimary ? 'primary' : 'secondary',
        'mlp:layer': layer,
      },
    });
    this.config = props.config;
    this.regionPlan = props.region;
  }

  /** The configured zones; overriding this is what keeps `Vpc` from looking zones up. */
  override get availabilityZones(): string[] {
    return [...this.regionPlan.availabilityZones];
  }

  /** Publish one SSM parameter for the runbooks that run in this region (see RUNBOOK_PARAMETERS). */
  protected publishRunbookParameter<C extends RunbookParameterComponent>(component: C, key: RunbookParameterKey<C>, value: string): void {
    new ssm.StringParameter(this, `Parameter${pascalCase(component)}${pascalCase(key)}`, {
      parameterName: runbookParameterName(this.config.tier.name, component, key),
      stringValue: value,
      description: `Runbook input: ${component} ${key} of ${this.region}`,
    });
  }

  /** Publish the runbook parameters a construct describes itself with, one SSM parameter each. */
  protected publishRunbookParameters<C extends RunbookParameterComponent>(component: C, values: RunbookParameters<C>): void {
    for (const [key, value] of Object.entries(values) as [RunbookParameterKey<C>, string | undefined][]) {
      if (value !== undefined) this.publishRunbookParameter(component, key, value);
    }
  }

  /** The region that holds the writable primary now (`-c primaryRegion`). */
  protected get primaryRegion(): RegionPlan {
    return this.config.primaryRegion;
  }

  /** The first of `-c regions`: owner of the stores that exist once per deployment. */
  protected get homeRegion(): RegionPlan {
    const home = this.config.regions[0];
    if (!home) throw new Error('unreachable: the config always has a home region');
    return home;
  }

  /** Every region of the deployment except this one. */
  protected get otherRegions(): RegionPlan[] {
    return this.config.regions.filter((r) => r.name !== this.regionPlan.name);
  }
}
