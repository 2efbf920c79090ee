import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { describe, expect, test } from 'vitest';
import { PlatformCluster, type PlatformClusterProps } from '../../../constructs/eks';
import { PlatformVpc } from '../../../constructs/network';
import { addQualityGates } from '../../../lib/quality-gates';
import { testApp } from '../../support/synth';

export function buildCluster(overrides: Partial<PlatformClusterProps> = {}, withGates = false) {
  const app = testApp();
  const stack = new Stack(app, 'Compute', { env: { account: '111122223333', region: 'us-east-1' } });
  const { vpc } = new PlatformVpc(stack, 'Network', {
    cidr: '10.64.0.0/16',
    availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
  });
  const cluster = new PlatformCluster(stack, 'Eks', {
    clusterName: 'mlp-tier2-use1',
    version: eks.KubernetesVersion.V1_36,
    kubectlLayer: new KubectlV36Layer(stack, 'Kubectl'),
    vpc,
    albControllerVersion: eks.AlbControllerVersion.V2_17_1,
    kedaVersion: '2.17.2',
    nodeGroups: {
      system: { instanceTypes: ['m7i.large'], minSize: 3, desiredSize: 3, maxSize: 6 },
      general: { instanceTypes: ['m7i.4xlarge'], minSize: 9, desiredSize: 9, maxSize: 80 },
      memory: { instanceTypes: ['r7i.8xlarge'], minSize: 19, desiredSize: 19, maxSize: 22 },
      gpu: { instanceTypes: ['g5.2xlarge'], minSize: 0, desiredSize: 0, maxSize: 10 },
    },
    ...overrides,
  });
  if (withGates) addQualityGates(app);
  return { app, stack, cluster };
}

describe('PlatformCluster', () => {
  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = buildCluster({}, true);
    expect(() => app.synth()).not.toThrow();
  });
});
